"""Composition root: settings -> database, clock, password hasher, channel adapters -> app and commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from convoflow.accounts.login_throttle import LoginThrottle
from convoflow.accounts.passwords import PasswordHasher
from convoflow.channels.credentials import SecretBox
from convoflow.channels.custom_channel.adapter import CustomChannelAdapter
from convoflow.channels.email.adapter import EmailAdapter
from convoflow.channels.registry import AdapterRegistry
from convoflow.channels.telegram.adapter import TelegramAdapter
from convoflow.channels.test_channel import TestChannelAdapter, TestChannelHub
from convoflow.channels.twilio.adapter import TwilioAdapter
from convoflow.channels.webchat.adapter import WebchatAdapter
from convoflow.channels.webchat.uploads import MAX_UPLOAD_BYTES, UploadStore
from convoflow.channels.webchat.visitors import VisitorKeys
from convoflow.channels.webchat_throttle import WebchatThrottles
from convoflow.channels.whatsapp_cloud.adapter import WhatsappCloudAdapter
from convoflow.clock import Clock, SystemClock
from convoflow.db.engine import build_engine, is_sqlite
from convoflow.db.session import Database
from convoflow.events.live import ContactHints
from convoflow.events.live import forget as live_forget
from convoflow.events.queue import WakeSignal, after_commit_notifier, flush_touched, forget_work
from convoflow.metrics import drop_after_rollback, flush_after_commit
from convoflow.settings import Settings
from convoflow.worker.engine import Engine
from convoflow.worker.http_executor import HttpExecutor
from convoflow.workflows.engine.registry import Registry
from convoflow.workflows.steps import build_registry


@dataclass
class Container:
    settings: Settings
    clock: Clock
    db: Database
    hasher: PasswordHasher
    login_throttle: LoginThrottle
    wake: WakeSignal
    hints: ContactHints
    test_channel: TestChannelHub
    adapters: AdapterRegistry
    webchat: WebchatAdapter
    webchat_throttles: WebchatThrottles
    steps: Registry

    def engine(
        self, *, poll_seconds: float = 1.0, lease_seconds: float = 30.0, http: HttpExecutor | None = None
    ) -> Engine:
        """The workflow engine's loop services over this container's database."""
        executor = http or HttpExecutor(
            allow_internal=self.settings.allow_internal_http, own_origins={self.settings.public_base_url}
        )
        return Engine(
            self.db,
            registry=self.steps,
            adapters=self.adapters,
            wake=self.wake,
            http=executor,
            poll_seconds=poll_seconds,
            lease=timedelta(seconds=lease_seconds),
        )

    def close(self) -> None:
        self.db.dispose()


def build_container(settings: Settings, *, clock: Clock | None = None) -> Container:
    url = settings.resolved_database_url()
    if is_sqlite(url) and settings.database_url is None:
        settings.ensure_data_dir()
    engine = build_engine(url, sqlite_synchronous=settings.sqlite_synchronous)
    clock = clock or SystemClock()
    db = Database(engine, clock)
    wake = WakeSignal()
    hints = ContactHints()
    hub = TestChannelHub(settings.test_channel_journal)
    # Work and its wake-up commit together: queue rows are written just before every commit.
    db.on_write_session("before_commit", flush_touched)
    db.on_write_session("after_commit", after_commit_notifier(wake))
    db.on_write_session("after_rollback", forget_work)
    db.on_write_session("after_commit", hints.after_commit)  # live connections (web chat) refetch
    db.on_write_session("after_rollback", live_forget)
    db.on_write_session("after_commit", flush_after_commit)  # metrics count committed work only
    db.on_write_session("after_soft_rollback", drop_after_rollback)

    def secret_key() -> str:  # read on first use, not at start (the key file may not exist yet)
        return settings.resolved_secret_key().get_secret_value()

    webchat = WebchatAdapter(
        keys=VisitorKeys(secret_key),
        uploads=UploadStore(
            settings.data_dir / "webchat-uploads", max_bytes=min(MAX_UPLOAD_BYTES, settings.max_body_bytes)
        ),
        public_base_url=settings.public_base_url,
    )
    return Container(
        settings=settings,
        clock=clock,
        db=db,
        hasher=PasswordHasher(settings.password_hashing),
        login_throttle=LoginThrottle(clock),
        wake=wake,
        hints=hints,
        test_channel=hub,
        adapters=AdapterRegistry(
            [
                TestChannelAdapter(hub),
                TelegramAdapter(api_url=settings.telegram_api_url),
                CustomChannelAdapter(now=clock.now, allow_internal=settings.allow_internal_http),
                TwilioAdapter(api_url=settings.twilio_api_url),
                WhatsappCloudAdapter(api_url=settings.whatsapp_api_url),
                webchat,
                EmailAdapter(now=clock.now, allow_internal=settings.allow_internal_http),
            ],
            secrets=SecretBox(secret_key),
        ),
        webchat=webchat,
        webchat_throttles=WebchatThrottles(clock),
        steps=build_registry(),
    )
