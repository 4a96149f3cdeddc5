"""`VNSSettings`: every setting of a `VNSApp`, read from the environment in one visible place."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from vns_sdk._problems import problem_summary
from vns_sdk.exceptions import ConfigurationError

__all__ = ["DEFAULT_BODY_TIMEOUT", "DEFAULT_MAX_BODY_SIZE", "VNSSettings", "from_environment"]

DEFAULT_MAX_BODY_SIZE = 1024 * 1024
DEFAULT_BODY_TIMEOUT = 5.0


def _split_secrets(value: Any) -> Any:
    # VNS_WEBHOOK_TOKEN="new,old" lists several tokens at once, so a token can be rotated without downtime.
    if value is None:
        return []
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class VNSSettings(BaseSettings):
    """The settings of a `VNSApp`, each read from an environment variable (or a ``.env`` file you load).

    Arguments given to `VNSApp` win over these. Secrets are `SecretStr`, so they never show in a
    ``repr`` or a log line.

    Attributes:
        openai_api_key: ``OPENAI_API_KEY``: the key VNS uses to open the OpenAI Realtime session.
        webhook_token: ``VNS_WEBHOOK_TOKEN``: the token(s) VNS presents on CallStart and CallEnd;
            comma-separated to accept several during a rotation.
        webhook_header: ``VNS_WEBHOOK_HEADER``: the header carrying the token. With ``Authorization``
            (the default) the value is ``Bearer <token>``; with any other header it is the bare token.
        webhook_basic_auth: ``VNS_WEBHOOK_BASIC_AUTH``: ``user:password`` pair(s), comma-separated, accepted
            as HTTP Basic credentials on CallStart and CallEnd.
        tool_token_secret: ``VNS_TOOL_TOKEN_SECRET``: the key that signs per-call tool tokens. When unset it is
            derived from the first webhook credential, so every worker with the same configuration agrees;
            set it to keep the tool tokens of calls in progress valid while the webhook token is rotated.
        public_url: ``VNS_PUBLIC_URL``: the external origin of the server (``https://agent.example.com``); the
            path the app is mounted at, the prefix and the tools route are appended to it. When unset it
            comes from the request's Host.
        prefix: ``VNS_PREFIX``: the path under which the routes live (default ``/vns``).
        model: ``VNS_MODEL``: the Realtime model (default ``gpt-realtime``).
        voice: ``VNS_VOICE``: the voice (default ``alloy``).
        instructions: ``VNS_INSTRUCTIONS``: the agent's instructions.
        max_seconds: ``VNS_MAX_SECONDS``: the longest a call may last (default 300).
        tools_url_adapter: ``VNS_TOOLS_URL_ADAPTER``: the ``defaultToolsUrlAdapter`` to answer (default none).
        redis_url: ``VNS_REDIS_URL``: share call state between workers through this Redis (``rediss://`` for
            TLS; in Sentinel mode the host names the master: ``redis://:password@mymaster/0``).
        redis_mode: ``VNS_REDIS_MODE``: ``standalone`` (one server, the default), ``cluster`` (a Redis
            Cluster; the URL of any node) or ``sentinel`` (a master found through ``VNS_REDIS_SENTINELS``).
        redis_sentinels: ``VNS_REDIS_SENTINELS``: ``host:port`` of each sentinel, comma-separated.
        redis_sentinel_password: ``VNS_REDIS_SENTINEL_PASSWORD``: the sentinels' own password, if they have one.
        api_url: ``VNS_API_URL``: the VNS outbound-call API.
        api_token: ``VNS_API_TOKEN``: the credentials of the outbound-call API.
        tool_timeout: ``VNS_TOOL_TIMEOUT``: seconds a tool may run before the model hears it timed out.
        call_start_timeout: ``VNS_CALL_START_TIMEOUT``: seconds the CallStart handlers may take together.
        max_body_size: ``VNS_MAX_BODY_SIZE``: the largest request body accepted, in bytes (default 1 MiB).
        body_timeout: ``VNS_BODY_TIMEOUT``: seconds a request's body may take to arrive once its headers have
            (default 5); a slower body is answered 408 and its connection closed.
        insecure_dev: ``VNS_INSECURE_DEV``: serve without a webhook token (local development only). Tool calls
            still need the token the app issues; without any secret configured each process signs them with
            a random key, so run one worker (or set ``VNS_TOOL_TOKEN_SECRET``).
        trust_forwarded_headers: ``VNS_TRUST_FORWARDED_HEADERS``: build the public URL from
            ``X-Forwarded-Proto``/``X-Forwarded-Host``/``Forwarded`` (only behind a proxy that sets them).
        token_grace_seconds: ``VNS_TOKEN_GRACE_SECONDS``: how long past ``max_seconds`` a call's tool token
            and state live (default 120).
        realtime_provider: ``VNS_REALTIME_PROVIDER``: whose Realtime endpoint VNS opens: ``openai`` (the
            default), ``azure`` (Azure OpenAI; ``VNS_REALTIME_URL`` is the resource) or ``gateway`` (any
            ``wss://`` URL in ``VNS_REALTIME_URL``).
        realtime_url: ``VNS_REALTIME_URL``: the endpoint's URL (``openai``: another URL of OpenAI's form;
            ``azure``: the resource name or ``https://<resource>.openai.azure.com``; ``gateway``: its ``wss://`` URL).
        realtime_headers: ``VNS_REALTIME_HEADERS``: extra handshake headers, as a JSON object (a gateway's key).
        openai_organization: ``OPENAI_ORG_ID``: sent as ``OpenAI-Organization`` (provider ``openai``).
        openai_project: ``OPENAI_PROJECT_ID``: sent as ``OpenAI-Project`` (provider ``openai``).
        azure_openai_api_key: ``AZURE_OPENAI_API_KEY``: the key of the Azure OpenAI resource (provider ``azure``;
            ``OPENAI_API_KEY`` when unset).
        azure_api_version: ``VNS_AZURE_API_VERSION``: use Azure's preview URL form with this API version.
        telemetry: ``VNS_TELEMETRY``: emit OpenTelemetry spans and metrics when ``opentelemetry-api`` is
            installed (default on; they go to the providers the application configured, and cost next to
            nothing when it configured none). Set it to ``0`` to keep the app out of your traces.
        telemetry_content: ``VNS_TELEMETRY_CONTENT``: record tool arguments and results in the spans
            (``gen_ai.tool.call.arguments`` and ``gen_ai.tool.call.result``, redacted). Off by default: they
            may hold what callers said.
        inspector: ``VNS_INSPECTOR``: serve the inspector page at ``<prefix>/inspector/``: every call as it
            happens. ``vns-sdk dev`` switches it on; elsewhere it is off unless set, and it asks for the
            webhook credentials whenever the app has them.
        inspector_events: ``VNS_INSPECTOR_EVENTS``: how many events the inspector keeps (default 2000).
        inspector_app: ``VNS_INSPECTOR_APP``: the app as a scenario file names it (``path/app.py:app``), written
            into the scenarios the inspector copies (``vns-sdk dev`` sets it).
    """

    model_config = SettingsConfigDict(env_prefix="VNS_", extra="ignore", populate_by_name=True)

    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("openai_api_key", "OPENAI_API_KEY", "VNS_OPENAI_API_KEY")
    )
    webhook_token: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    webhook_header: str = "Authorization"
    webhook_basic_auth: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    tool_token_secret: SecretStr | None = None
    public_url: str | None = None
    prefix: str = "/vns"
    model: str = "gpt-realtime"
    voice: str = "alloy"
    instructions: str | None = None
    max_seconds: int = Field(default=300, gt=0)
    tools_url_adapter: str | None = None
    redis_url: SecretStr | None = None
    redis_mode: Literal["standalone", "cluster", "sentinel"] = "standalone"
    redis_sentinels: str | None = None
    redis_sentinel_password: SecretStr | None = None
    api_url: str | None = None
    api_token: SecretStr | None = None
    tool_timeout: float = Field(default=10.0, gt=0)
    call_start_timeout: float = Field(default=3.0, gt=0)
    max_body_size: int = Field(default=DEFAULT_MAX_BODY_SIZE, gt=0)
    body_timeout: float = Field(default=DEFAULT_BODY_TIMEOUT, gt=0)
    insecure_dev: bool = False
    trust_forwarded_headers: bool = False
    token_grace_seconds: int = Field(default=120, ge=0)
    realtime_provider: Literal["openai", "azure", "gateway"] = "openai"
    realtime_url: str | None = None
    realtime_headers: SecretStr | None = None
    openai_organization: str | None = Field(
        default=None, validation_alias=AliasChoices("openai_organization", "OPENAI_ORG_ID", "VNS_OPENAI_ORGANIZATION")
    )
    openai_project: str | None = Field(
        default=None, validation_alias=AliasChoices("openai_project", "OPENAI_PROJECT_ID", "VNS_OPENAI_PROJECT")
    )
    azure_openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("azure_openai_api_key", "AZURE_OPENAI_API_KEY", "VNS_AZURE_OPENAI_API_KEY"),
    )
    azure_api_version: str | None = None
    telemetry: bool = True
    telemetry_content: bool = False
    inspector: bool = False
    inspector_events: int = Field(default=2000, gt=0, le=100_000)
    inspector_app: str | None = None

    @field_validator("webhook_token", "webhook_basic_auth", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return _split_secrets(value)


def from_environment() -> VNSSettings:
    """The settings the environment holds, for a part of vns-sdk built without an app (a client, a store).

    Raises:
        ConfigurationError: A variable holds a value its setting does not accept (the message names the
            setting, never the value).
    """
    try:
        return VNSSettings()
    except ValidationError as exc:
        raise ConfigurationError(f"invalid setting in the environment: {problem_summary(exc)}") from None
