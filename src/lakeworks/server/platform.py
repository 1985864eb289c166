"""The platform: every domain service, built once from the settings and shared by both faces."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lakeworks.core.context import RequestContext
from lakeworks.core.plugins import load_backend_class
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.etl.service import EtlService
from lakeworks.etl.triggers import FunctionHooks, TriggerService
from lakeworks.features.service import FeatureStoreService
from lakeworks.functions.service import FunctionService
from lakeworks.hosting.autoscaling.service import AutoscalingService
from lakeworks.hosting.batch.service import TransformService
from lakeworks.hosting.recommender.service import InferenceRecommenderService
from lakeworks.hosting.service import HostingService
from lakeworks.iam.secrets import SecretBox
from lakeworks.iam.service import IamService
from lakeworks.jobs.service import JobService
from lakeworks.lake.catalog.service import CatalogService
from lakeworks.lake.firehose.service import FirehoseService
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
    autoscaling: AutoscalingService
    processing: ProcessingService
    recipes: RecipeService
    notifications: NotificationService
    functions: FunctionService
    etl: EtlService
    features: FeatureStoreService
    transform: TransformService
    firehose: FirehoseService
    triggers: TriggerService
    recommender: InferenceRecommenderService

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
        autoscaling = AutoscalingService(settings, db, hosting)
        recommender = InferenceRecommenderService(settings, db, lake, hosting)
        processing = ProcessingService(settings, db, lake, jobs)
        recipes = RecipeService(db, processing)
        notifications = NotificationService(settings, db, lake)
        hosting.async_inference.notifications = notifications  # async results' webhooks
        functions = FunctionService(settings, db, iam, lake, notifications)
        etl = EtlService(settings, db, lake, jobs)
        features = FeatureStoreService(settings, db, lake, catalog)
        transform = TransformService(settings, db, lake, jobs)
        firehose = FirehoseService(settings, db, lake, catalog)
        triggers = TriggerService(db, etl, notifications, catalog)
        triggers.functions = FunctionHooks(
            check=lambda name: functions.get_function(RequestContext.system(), name),
            invoke=functions.invoke_for_trigger,
        )
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
            autoscaling=autoscaling,
            processing=processing,
            recipes=recipes,
            notifications=notifications,
            functions=functions,
            etl=etl,
            features=features,
            transform=transform,
            firehose=firehose,
            triggers=triggers,
            recommender=recommender,
        )

    def start(self) -> None:
        """Start background work (the job supervisor)."""
        self.lake.start()
        self.jobs.start()
        self.catalog.start()
        self.training.start()
        self.tuning.start()
        self.hosting.start()
        self.autoscaling.start()
        self.notifications.start()
        self.etl.start()
        self.features.start()
        self.firehose.start()
        self.triggers.start()
        self.recommender.start()

    def close(self) -> None:
        """Stop background work and release the database."""
        self.features.close()
        self.firehose.close()
        self.triggers.close()
        self.etl.close()
        self.notifications.close()
        self.functions.close()
        self.recommender.close()
        self.autoscaling.close()
        self.hosting.close()
        self.tuning.close()
        self.training.close()
        self.jobs.close()
        self.catalog.close()
        self.lake.close()
        self.db.dispose()
