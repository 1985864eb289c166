"""The platform: every domain service, built once from the settings and shared by both faces."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lakeworks.core.plugins import load_backend_class
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.etl.service import EtlService
from lakeworks.functions.service import FunctionService
from lakeworks.hosting.service import HostingService
from lakeworks.iam.secrets import SecretBox
from lakeworks.iam.service import IamService
from lakeworks.jobs.service import JobService
from lakeworks.lake.catalog.service import CatalogService
from lakeworks.lake.notifications.service import NotificationService
from lakeworks.lake.service import LakeService
from lakeworks.processing.recipes import RecipeService
from lakeworks.processing.service import ProcessingService
from lakeworks.training.service import TrainingService
from lakeworks.tuning.service import TuningService

__all__ = ["Platform"]

log = logging.getLogger("lakeworks.server")


@dataclass
class Platform:
    """The services behind the REST API and the AWS front door."""

    settings: Settings
    db: Database
    iam: IamService
    lake: LakeService
    jobs: JobService
    catalog: CatalogService
    training: TrainingService
    tuning: TuningService
    hosting: HostingService
    processing: ProcessingService
    recipes: RecipeService
    notifications: NotificationService
    functions: FunctionService
    etl: EtlService

    @classmethod
    def open(cls, settings: Settings) -> Platform:
        """Create the home, migrate the database, bootstrap credentials, build the services."""
        settings.home.mkdir(parents=True, exist_ok=True)
        db = Database(settings.database_url)
        db.upgrade()
        box = SecretBox.from_home(
            settings.home,
            settings.auth.master_key.get_secret_value() if settings.auth.master_key else None,
        )
        iam = IamService(settings, db, box)
        if iam.bootstrap(settings.home):
            log.info("created the admin principal; credentials in %s", settings.home)
        lake = LakeService(settings, db)
        backend = load_backend_class(settings.jobs.backend)(settings)
        jobs = JobService(settings, db, iam, lake, backend)
        catalog = CatalogService(settings, db, lake)
        training = TrainingService(settings, db, lake, jobs)
        tuning = TuningService(settings, db, training)
        hosting = HostingService(settings, db, lake, backend)
        processing = ProcessingService(settings, db, lake, jobs)
        recipes = RecipeService(db, processing)
        notifications = NotificationService(settings, db, lake)
        functions = FunctionService(settings, db, iam, lake, notifications)
        etl = EtlService(settings, db, lake, jobs)
        return cls(
            settings=settings,
            db=db,
            iam=iam,
            lake=lake,
            jobs=jobs,
            catalog=catalog,
            training=training,
            tuning=tuning,
            hosting=hosting,
            processing=processing,
            recipes=recipes,
            notifications=notifications,
            functions=functions,
            etl=etl,
        )

    def start(self) -> None:
        """Start background work (the job supervisor)."""
        self.lake.start()
        self.jobs.start()
        self.catalog.start()
        self.training.start()
        self.tuning.start()
        self.hosting.start()
        self.notifications.start()
        self.etl.start()

    def close(self) -> None:
        """Stop background work and release the database."""
        self.etl.close()
        self.notifications.close()
        self.hosting.close()
        self.tuning.close()
        self.training.close()
        self.jobs.close()
        self.catalog.close()
        self.lake.close()
        self.db.dispose()
