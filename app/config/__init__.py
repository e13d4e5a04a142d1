"""Settings: a validated pydantic model loaded from one TOML file plus ``AGENTKIT_*`` env.

Precedence, highest first: environment variables, the config file, defaults. A missing
file means defaults; a broken one raises :class:`ConfigError` with a single line that
names the file, the line or key, and what was expected. Nothing is read at import time.

The package holds the model (:mod:`.schema`, :mod:`.mcp`, :mod:`.base`), loading
(:mod:`.load`), error messages (:mod:`.errors`), a workspace's own rules
(:mod:`.workspace`), showing (:mod:`.show`) and saving (:mod:`.save`); every public name is
importable from ``app.config`` itself.
"""

from app.config.base import DEFAULT_BASE_URLS, SECRET_NAME, ApprovalMode, ProviderKind
from app.config.errors import ConfigError
from app.config.load import ENV_PREFIX, NON_SETTING_ENV, load_settings
from app.config.mcp import McpConfig, McpServerConfig
from app.config.save import save_setting
from app.config.schema import (
    AgentConfig,
    ApprovalConfig,
    EngineConfig,
    ExpertConfig,
    ProviderConfig,
    RuleCheck,
    SandboxMode,
    ServeApproval,
    ServeConfig,
    Settings,
    StorageConfig,
    TeamConfig,
    ToolsConfig,
    UIConfig,
)
from app.config.show import redacted, to_toml
from app.config.workspace import (
    WORKSPACE_KEYS,
    WorkspaceRules,
    file_digest,
    read_workspace_rules,
    rules_notice,
    trust_key,
    with_workspace_rules,
)

__all__ = [
    "DEFAULT_BASE_URLS",
    "ENV_PREFIX",
    "NON_SETTING_ENV",
    "SECRET_NAME",
    "WORKSPACE_KEYS",
    "AgentConfig",
    "ApprovalConfig",
    "ApprovalMode",
    "ConfigError",
    "EngineConfig",
    "ExpertConfig",
    "McpConfig",
    "McpServerConfig",
    "ProviderConfig",
    "ProviderKind",
    "RuleCheck",
    "SandboxMode",
    "ServeApproval",
    "ServeConfig",
    "Settings",
    "StorageConfig",
    "TeamConfig",
    "ToolsConfig",
    "UIConfig",
    "WorkspaceRules",
    "file_digest",
    "load_settings",
    "read_workspace_rules",
    "redacted",
    "rules_notice",
    "save_setting",
    "to_toml",
    "trust_key",
    "with_workspace_rules",
]
