"""The dependency rules of docs/architecture.md, checked on the source with `ast`.

Routes call services; services flush and emit events, never commit; routes commit. Only the HTTP layer
knows FastAPI, only the composition root and the HTTP layer know the container, and the database layer
knows no feature.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import convoflow

SRC = Path(convoflow.__file__).parent
FEATURES = ("accounts", "audit", "channels", "contacts", "conversations", "events", "teams", "workflows")
ROUTE_FILES = (
    "routes.py",
    "auth_routes.py",
    "settings_routes.py",
    "run_routes.py",
    "shortcut_routes.py",
    "hook_routes.py",
    "webchat_routes.py",
    "webchat_socket_routes.py",
)


@dataclass(frozen=True)
class Module:
    name: str  # convoflow.contacts.service
    path: Path
    tree: ast.Module

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.name.split("."))

    @property
    def is_route(self) -> bool:
        return self.path.name in ROUTE_FILES

    @property
    def is_http(self) -> bool:
        return self.is_route or self.name.startswith("convoflow.api")

    @property
    def is_schemas(self) -> bool:
        """Request and response bodies: part of the HTTP layer, used by routes only."""
        return self.path.name == "schemas.py"

    def imports(self) -> set[str]:
        """Every module named by an import statement, anywhere in the file (also under TYPE_CHECKING)."""
        found: set[str] = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = self._absolute(node)
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)
        return found

    def imported_names(self) -> set[tuple[str, str]]:
        """(module, name) for every `from module import name`."""
        return {
            (self._absolute(node), alias.name)
            for node in ast.walk(self.tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }

    def _absolute(self, node: ast.ImportFrom) -> str:
        if node.level == 0:
            return node.module or ""
        package = (
            self.parts[: -node.level] if self.path.name != "__init__.py" else self.parts[: -node.level + 1]
        )
        return ".".join(package + ((node.module,) if node.module else ()))


def _modules() -> list[Module]:
    modules = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC.parent).with_suffix("")
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        modules.append(Module(".".join(parts), path, ast.parse(path.read_text(), filename=str(path))))
    return modules


MODULES = _modules()


def _uses(module: Module, prefix: str) -> list[str]:
    return sorted(name for name in module.imports() if name == prefix or name.startswith(prefix + "."))


def test_the_source_tree_is_found() -> None:
    names = {m.name for m in MODULES}
    assert {
        "convoflow.cli",
        "convoflow.db.engine",
        "convoflow.contacts.routes",
        "convoflow.api.deps",
    } <= names
    assert sum(m.is_route for m in MODULES) >= 7


def test_only_the_http_layer_and_the_cli_import_convoflow_api() -> None:
    offenders = {
        m.name: _uses(m, "convoflow.api")
        for m in MODULES
        if not (m.is_http or m.is_schemas) and m.name != "convoflow.cli" and _uses(m, "convoflow.api")
    }
    assert offenders == {}


def test_request_and_response_bodies_are_used_by_routes_only() -> None:
    offenders = {
        m.name: used
        for m in MODULES
        if not (m.is_http or m.is_schemas)
        and (used := [n for n in m.imports() if n.split(".")[-1] == "schemas" or ".schemas." in n])
    }
    assert offenders == {}


def test_only_the_http_layer_imports_fastapi_or_starlette() -> None:
    offenders = {
        m.name: _uses(m, "fastapi") + _uses(m, "starlette")
        for m in MODULES
        if not m.is_http and (_uses(m, "fastapi") or _uses(m, "starlette"))
    }
    assert offenders == {}


def test_only_the_composition_root_the_http_layer_and_the_cli_use_the_container() -> None:
    allowed = {"convoflow.bootstrap", "convoflow.cli"}
    offenders = {
        m.name: _uses(m, "convoflow.bootstrap")
        for m in MODULES
        if m.name not in allowed and not m.is_http and _uses(m, "convoflow.bootstrap")
    }
    assert offenders == {}


def test_nothing_imports_the_cli_and_only_the_cli_imports_the_demo() -> None:
    assert [m.name for m in MODULES if _uses(m, "convoflow.cli")] == []
    assert [m.name for m in MODULES if _uses(m, "convoflow.demo") and m.name != "convoflow.demo"] == [
        "convoflow.cli"
    ]


def test_the_database_layer_imports_no_feature() -> None:
    # Below every feature: the database layer uses itself and the clock, nothing else of convoflow.
    offenders: dict[str, list[str]] = {}
    for module in MODULES:
        if not module.name.startswith("convoflow.db"):
            continue
        used = [
            name
            for name in _uses(module, "convoflow")
            if name != "convoflow" and not name.startswith(("convoflow.db", "convoflow.clock"))
        ]
        if module.name == "convoflow.db.models":
            # The metadata aggregator imports every feature's table module (`from convoflow.teams
            # import models`), and nothing else of the features.
            used = [name for name in used if not _is_models_import(name)]
        if used:
            offenders[module.name] = used
    assert offenders == {}


def _is_models_import(name: str) -> bool:
    parts = name.split(".")
    return parts[1] in FEATURES and (len(parts) == 2 or parts[2:] == ["models"])


def test_every_table_module_is_known_to_the_metadata_aggregator() -> None:
    aggregator = next(m for m in MODULES if m.name == "convoflow.db.models")
    table_modules = {m.name for m in MODULES if m.path.name == "models.py" and m.name != aggregator.name}
    assert table_modules <= aggregator.imports()


def test_table_modules_import_only_the_database_layer() -> None:
    offenders = {}
    for module in MODULES:
        if module.path.name != "models.py" or module.name == "convoflow.db.models":
            continue
        used = [
            n for n in _uses(module, "convoflow") if n != "convoflow" and not n.startswith("convoflow.db")
        ]
        if used:
            offenders[module.name] = used
    assert offenders == {}


ROUTES_WITHOUT_QUERIES = [m for m in MODULES if m.is_route]


@pytest.mark.parametrize("module", ROUTES_WITHOUT_QUERIES, ids=lambda m: m.name)
def test_route_modules_leave_queries_to_services(module: Module) -> None:
    sqlalchemy_names = {(mod, name) for mod, name in module.imported_names() if mod.startswith("sqlalchemy")}
    plain_imports = [
        alias.name
        for node in ast.walk(module.tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name.startswith("sqlalchemy")
    ]
    assert sqlalchemy_names <= {("sqlalchemy.orm", "Session")}  # for type annotations only
    assert plain_imports == []
    calls = [
        node.func.attr
        for node in ast.walk(module.tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"execute", "scalar", "scalars", "query", "add", "add_all", "delete", "get"}
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "session"
    ]
    assert calls == []


def test_route_modules_do_not_import_the_database_layer() -> None:
    # DESIGN.md §2: routes call services, never `db` directly.
    offenders = {m.name: _uses(m, "convoflow.db") for m in MODULES if m.is_route and _uses(m, "convoflow.db")}
    assert offenders == {}


def test_services_never_commit_or_roll_back() -> None:
    # Transactions belong to whoever opened the session: routes, the API dependencies, the CLI, the worker.
    owners = ("convoflow.api", "convoflow.cli", "convoflow.worker", "convoflow.db.migrations")
    offenders = {}
    for module in MODULES:
        if module.is_route or module.name.startswith(owners):
            continue
        calls = [
            f"{module.name}:{node.lineno}"
            for node in ast.walk(module.tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"commit", "rollback"}
        ]
        if calls:
            offenders[module.name] = calls
    assert offenders == {}


def test_only_settings_reads_the_environment() -> None:
    offenders = []
    for module in MODULES:
        if module.name == "convoflow.settings":
            continue
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"}:
                offenders.append(f"{module.name}:{node.lineno}")
            if (
                isinstance(node, ast.ImportFrom)
                and node.module == "os"
                and any(a.name in {"environ", "getenv"} for a in node.names)
            ):
                offenders.append(f"{module.name}:{node.lineno}")
    assert offenders == []


def test_only_the_clock_reads_the_time() -> None:
    # Time comes from the injected Clock (db.session.now(), container.clock), so FakeClock governs it.
    offenders = []
    for module in MODULES:
        if module.name == "convoflow.clock":
            continue
        for node in ast.walk(module.tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if (owner_name, node.func.attr) in {
                ("datetime", "now"),
                ("datetime", "utcnow"),
                ("datetime", "today"),
                ("date", "today"),
                ("time", "time"),
                ("time", "time_ns"),
            }:
                offenders.append(f"{module.name}:{node.lineno}")
    assert offenders == []


# --- The workflows package (DESIGN.md §2) -------------------------------------------------------------

WORKFLOW_MODULES = [m for m in MODULES if m.name.startswith("convoflow.workflows")]
DEFINITION_PACKAGE = "convoflow.workflows.definition"


def test_the_workflows_modules_are_found_and_checked() -> None:
    names = {m.name for m in WORKFLOW_MODULES}
    assert {
        "convoflow.workflows.service",
        "convoflow.workflows.routes",
        "convoflow.workflows.definition.graph",
        "convoflow.workflows.definition.validate",
        "convoflow.workflows.definition.loops",
    } <= names
    # The generic rules above cover them: the routes module is a route (no queries, commits allowed)...
    assert "convoflow.workflows.routes" in {m.name for m in ROUTES_WITHOUT_QUERIES}
    # ...and every other workflows module is a service for the no-commit rule.
    assert [m.name for m in WORKFLOW_MODULES if m.is_route] == [
        "convoflow.workflows.hook_routes",
        "convoflow.workflows.routes",
        "convoflow.workflows.run_routes",
        "convoflow.workflows.shortcut_routes",
    ]


def _top_level(name: str) -> str:
    return name.split(".")[0]


def test_the_definition_layer_imports_only_the_stdlib_pydantic_and_itself() -> None:
    # The pure layer: validation, loops and the document model run without a database or a web stack.
    offenders: dict[str, list[str]] = {}
    checked = [
        m
        for m in WORKFLOW_MODULES
        if m.name == DEFINITION_PACKAGE or m.name.startswith(DEFINITION_PACKAGE + ".")
    ]
    assert len(checked) >= 10
    for module in checked:
        used = [
            name
            for name in module.imports()
            if name
            and name != "__future__"
            and _top_level(name) not in sys.stdlib_module_names
            and _top_level(name) not in {"pydantic", "pydantic_core"}
            and not (name == DEFINITION_PACKAGE or name.startswith(DEFINITION_PACKAGE + "."))
        ]
        if used:
            offenders[module.name] = sorted(used)
    assert offenders == {}


def test_workflow_services_import_neither_the_http_layer_nor_the_worker() -> None:
    # DESIGN.md §2: workflows/service, transfer (and later store) never import api, devapi or worker.
    offenders = {
        m.name: _uses(m, "convoflow.api") + _uses(m, "convoflow.devapi") + _uses(m, "convoflow.worker")
        for m in WORKFLOW_MODULES
        if not m.is_route
        and (_uses(m, "convoflow.api") or _uses(m, "convoflow.devapi") or _uses(m, "convoflow.worker"))
    }
    assert offenders == {}


ENGINE_USERS = ("convoflow.workflows", "convoflow.worker", "convoflow.bootstrap", "convoflow.cli")


def test_features_do_not_import_the_workflow_engine() -> None:
    # Features may ask `workflows.references` who uses an object, but never reach into the engine;
    # only the workflows package, the worker loops and the composition root do (DESIGN §2).
    offenders = {
        m.name: _uses(m, "convoflow.workflows.engine")
        for m in MODULES
        if not m.name.startswith(ENGINE_USERS) and _uses(m, "convoflow.workflows.engine")
    }
    assert offenders == {}


# The engine and the step handlers are pure: no database, web or HTTP library, no feature package.
PURE_ENGINE_ALLOWED = (
    "convoflow.workflows.engine",
    "convoflow.workflows.definition",
    "convoflow.workflows.steps",
    "convoflow.errors",
    "convoflow.validators",
)


@pytest.mark.parametrize(
    "module",
    [m for m in MODULES if m.name.startswith(("convoflow.workflows.engine", "convoflow.workflows.steps"))],
    ids=lambda m: m.name,
)
def test_engine_and_steps_import_no_storage_or_features(module: Module) -> None:
    banned = [
        name for name in _uses(module, "sqlalchemy") + _uses(module, "fastapi") + _uses(module, "httpx")
    ]
    inner = [
        n for n in _uses(module, "convoflow") if n != "convoflow" and not n.startswith(PURE_ENGINE_ALLOWED)
    ]
    assert banned == [] and inner == []


# --- Channel adapters (DESIGN.md §2: "Adapters know the wire format and never the database") ---------

ADAPTER_MODULES = [m for m in MODULES if m.name.startswith("convoflow.channels.") and len(m.parts) >= 4]


def test_channel_adapters_import_only_the_protocol_httpx_and_their_own_package() -> None:
    assert "convoflow.channels.telegram.adapter" in {m.name for m in ADAPTER_MODULES}
    offenders: dict[str, list[str]] = {}
    for module in ADAPTER_MODULES:
        package = ".".join(module.parts[:3])  # convoflow.channels.telegram
        allowed = ("convoflow.channels.base", "convoflow.errors", package)
        used = [n for n in _uses(module, "convoflow") if n != "convoflow" and not n.startswith(allowed)]
        used += _uses(module, "sqlalchemy") + _uses(module, "fastapi") + _uses(module, "starlette")
        if used:
            offenders[module.name] = sorted(used)
    assert offenders == {}
