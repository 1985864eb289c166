"""The S3 Select dialect: what is translated, and what is refused with which code and where."""

from __future__ import annotations

import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.lake.select_sql import lex, position, translate

COLUMNS = ["name", "age", "city"]


@pytest.mark.parametrize(
    ("expression", "columns", "expected"),
    [
        ("SELECT * FROM S3Object", None, "SELECT * FROM s3object"),
        (
            "select s._1, s._3 from S3Object s where s._2 > '3' limit 2",
            COLUMNS,
            'select s."name" AS "_1", s."city" AS "_3" from s3object AS s '
            "where s.\"age\" > '3' limit 2",
        ),
        (
            "SELECT COUNT(*), SUM(CAST(s.age AS INT)) FROM S3Object AS s;",
            COLUMNS,
            'SELECT COUNT(*) AS "_1", SUM(CAST(s.age AS INT)) AS "_2" FROM s3object AS s',
        ),
        (
            'SELECT s."name" FROM S3Object[*] s',
            None,
            'SELECT s."name" AS "name" FROM s3object AS s',
        ),
        ("SELECT s.a[0] AS x FROM S3Object s", None, "SELECT s.a[1] AS x FROM s3object AS s"),
        ("SELECT _1 AS _2 FROM S3Object", ["_1", "_2"], 'SELECT "_1" AS _2 FROM s3object'),
        (
            "SELECT CAST(s.price AS DECIMAL(10, 2)) FROM S3Object s",
            None,
            'SELECT CAST(s.price AS DECIMAL(10, 2)) AS "_1" FROM s3object AS s',
        ),
    ],
)
def test_translations(expression: str, columns: list[str] | None, expected: str) -> None:
    assert translate(expression, columns) == expected


@pytest.mark.parametrize(
    ("expression", "code", "where"),
    [
        ("SELECT name FORM S3Object", "ParseUnexpectedToken", (1, 18)),
        ("SELECT *\nFROM S3Object s\nWHERE s._1 = = 2", "ParseUnexpectedToken", (3, 14)),
        ("SELECT * FROM S3Object s ORDER BY s._1", "UnsupportedSqlStructure", (1, 26)),
        ("SELECT * FROM S3Object s JOIN S3Object t ON true", "UnsupportedSqlStructure", (1, 26)),
        ("SELECT (SELECT 1) FROM S3Object", "UnsupportedSqlStructure", (1, 9)),
        ("SELECT read_csv('/etc/passwd') FROM S3Object", "UnsupportedFunction", (1, 8)),
        ("SELECT s._9 FROM S3Object s", "InvalidColumnIndex", (1, 10)),
        ("SELECT * FROM t", "InvalidDataSource", (1, 15)),
        ("SELECT * FROM S3Object LIMIT -1", "EvaluatorNegativeLimit", (1, 24)),
        ("SELECT * FROM S3Object LIMIT 1.5", "ParseExpectedNumber", (1, 24)),
        ("SELECT 'abc FROM S3Object", "LexerInvalidLiteral", (1, 8)),
        ("SELECT * FROM S3Object s, S3Object t", "MultipleDataSourcesUnsupported", (1, 25)),
        ("SELECT * FROM S3Object[*].a s", "InvalidKeyPath", (1, 26)),
        ("SELECT $1 FROM S3Object", "LexerInvalidChar", (1, 8)),
        ("DELETE FROM S3Object", "ParseUnsupportedSelect", (1, 1)),
    ],
)
def test_refusals_name_the_code_and_position(
    expression: str, code: str, where: tuple[int, int]
) -> None:
    with pytest.raises(ValidationError) as caught:
        translate(expression, COLUMNS)
    assert caught.value.aws_code == code
    assert f"at line {where[0]}, column {where[1]}" in caught.value.message


def test_whole_expression_refusals() -> None:
    for expression, code in [
        ("   ", "MissingRequiredParameter"),
        ("SELECT 1; SELECT 2", "UnsupportedSqlStructure"),
        ("SELECT 1", "ParseSelectMissingFrom"),
        ("SELECT " + "1+" * 200_000 + "1 FROM S3Object", "ExpressionTooLong"),
    ]:
        with pytest.raises(ValidationError) as caught:
            translate(expression, COLUMNS)
        assert caught.value.aws_code == code, expression


def test_lexer_and_positions() -> None:
    tokens = lex("SELECT 'it''s', \"a\"\"b\" FROM x")
    assert [t.kind for t in tokens] == ["word", "string", "op", "quoted", "word", "word"]
    assert position("ab\ncd", 4) == (2, 2)
