"""S3's listing rules over a stream of keys in order (pure logic, no I/O).

A listing takes the keys after a *marker* (``start_after``, or the last entry of the previous
page carried in the continuation token) that start with ``prefix``; keys whose rest after the
prefix contains ``delimiter`` roll up into one *common prefix* each (the key up to and including
the first delimiter). Keys compare as UTF-8 bytes, which is the order of Python's ``str``
comparison for valid Unicode. A store walks its keys in that order, asks :class:`ListQuery`
what it may skip, and :func:`page_of` cuts the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from lakeworks.lake.objects import decode_token, encode_token
from lakeworks.schemas.lake import ObjectInfo, ObjectListing

__all__ = ["ListQuery", "page_of"]


@dataclass(frozen=True)
class ListQuery:
    """What a listing asks for.

    Attributes:
        prefix: Only keys starting with it.
        delimiter: Roll keys up at its first occurrence after the prefix (``None``: no roll-up).
        marker: Only keys sorting after it.
        marker_is_prefix: The marker is a common prefix: skip every key under it as well.
    """

    prefix: str = ""
    delimiter: str | None = None
    marker: str | None = None
    marker_is_prefix: bool = False

    @classmethod
    def create(
        cls,
        prefix: str = "",
        delimiter: str | None = None,
        start_after: str | None = None,
        continuation_token: str | None = None,
    ) -> ListQuery:
        """Build a query; a continuation token wins over ``start_after`` (as in S3).

        Raises:
            ValidationError: A malformed continuation token.
        """
        if continuation_token:
            state = decode_token(continuation_token, "m")
            return cls(prefix, delimiter or None, state["m"], bool(state.get("p")))
        return cls(prefix, delimiter or None, start_after or None, False)

    def flat(self) -> ListQuery:
        """The same query without roll-up (to ask whether a subtree holds any key)."""
        return replace(self, delimiter=None)

    def skip_key(self, key: str) -> bool:
        """Whether ``key`` is outside the listing."""
        if not key.startswith(self.prefix):
            return True
        if self.marker is None:
            return False
        return key <= self.marker or (self.marker_is_prefix and key.startswith(self.marker))

    def skip_tree(self, tree: str) -> bool:
        """Whether no key starting with ``tree`` can be in the listing."""
        if not (tree.startswith(self.prefix) or self.prefix.startswith(tree)):
            return True
        marker = self.marker
        if marker is None:
            return False
        if self.marker_is_prefix and tree.startswith(marker):
            return True
        # marker > tree without starting with it: they differ inside tree, so every key
        # starting with tree sorts before the marker
        return tree < marker and not marker.startswith(tree)

    def rollup(self, key_or_tree: str) -> str | None:
        """The common prefix that ``key_or_tree`` (and every key starting with it) rolls up into.

        For a tree this is exact: the first delimiter found wholly inside it is the first one
        in every key that starts with it.
        """
        if not self.delimiter or not key_or_tree.startswith(self.prefix):
            return None
        index = key_or_tree.find(self.delimiter, len(self.prefix))
        return None if index < 0 else key_or_tree[: index + len(self.delimiter)]


def page_of(
    bucket: str, query: ListQuery, max_keys: int, entries: Iterable[ObjectInfo | str]
) -> ObjectListing:
    """Cut one page from ``entries`` (objects and common prefixes, in key order).

    Consecutive repeats (a common prefix met once per key under it) count once. ``next_token``
    is set only when another entry follows the page.
    """
    items: list[ObjectInfo] = []
    prefixes: list[str] = []
    last: tuple[bool, str] | None = None
    next_token: str | None = None
    for entry in entries:
        current = (True, entry) if isinstance(entry, str) else (False, entry.key)
        if current == last:
            continue
        if len(items) + len(prefixes) >= max_keys:
            assert last is not None
            next_token = encode_token({"m": last[1], "p": last[0]})
            break
        if isinstance(entry, str):
            prefixes.append(entry)
        else:
            items.append(entry)
        last = current
    return ObjectListing(
        bucket=bucket,
        prefix=query.prefix,
        delimiter=query.delimiter,
        items=items,
        common_prefixes=prefixes,
        next_token=next_token,
    )
