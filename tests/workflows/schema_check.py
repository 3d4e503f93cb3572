"""A small JSON Schema (2020-12) validator for the keywords pydantic emits, so tests can check documents
against GET /api/workflows/schema without a jsonschema dependency. Unknown keywords fail loudly rather
than pass silently."""

from __future__ import annotations

import re
from typing import Any

ANNOTATIONS = {"title", "description", "default", "examples", "discriminator", "deprecated", "readOnly"}


class SchemaError(AssertionError):
    pass


def validate_instance(schema: dict[str, Any], instance: Any) -> None:
    """Raises SchemaError naming the first place `instance` breaks `schema`."""
    _Validator(schema).check(schema, instance, "$")


class _Validator:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root

    def resolve(self, ref: str) -> dict[str, Any]:
        if not ref.startswith("#/"):
            raise SchemaError(f"unsupported $ref {ref!r}")
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        return dict(node)

    def valid(self, schema: dict[str, Any], instance: Any) -> bool:
        try:
            self.check(schema, instance, "$")
        except SchemaError:
            return False
        return True

    def check(self, schema: dict[str, Any], instance: Any, path: str) -> None:
        for keyword, value in schema.items():
            if keyword in ANNOTATIONS or keyword == "$defs":
                continue
            match keyword:
                case "$ref":
                    self.check(self.resolve(value), instance, path)
                case "type":
                    if not _is_type(instance, value):
                        raise SchemaError(f"{path}: expected {value}, got {type(instance).__name__}")
                case "const":
                    if instance != value or type(instance) is not type(value):
                        raise SchemaError(f"{path}: expected {value!r}")
                case "enum":
                    if instance not in value:
                        raise SchemaError(f"{path}: {instance!r} is not one of {value!r}")
                case "anyOf":
                    if not any(self.valid(option, instance) for option in value):
                        raise SchemaError(f"{path}: matches none of anyOf")
                case "oneOf":
                    matches = sum(self.valid(option, instance) for option in value)
                    if matches != 1:
                        raise SchemaError(f"{path}: matches {matches} of oneOf, not exactly one")
                case "allOf":
                    for option in value:
                        self.check(option, instance, path)
                case (
                    "properties"
                    | "required"
                    | "additionalProperties"
                    | "patternProperties"
                    | ("propertyNames")
                    | "maxProperties"
                    | "minProperties"
                ):
                    if isinstance(instance, dict):
                        self.check_object(keyword, value, schema, instance, path)
                case "items" | "maxItems" | "minItems" | "uniqueItems":
                    if isinstance(instance, list):
                        self.check_array(keyword, value, instance, path)
                case "maxLength" | "minLength" | "pattern" | "format":
                    if isinstance(instance, str):
                        _check_string(keyword, value, instance, path)
                case "maximum" | "minimum" | "exclusiveMaximum" | "exclusiveMinimum":
                    if _is_type(instance, "number"):
                        _check_number(keyword, value, instance, path)
                case _:
                    raise SchemaError(f"unsupported keyword {keyword!r} at {path}")

    def check_object(
        self, keyword: str, value: Any, schema: dict[str, Any], instance: dict[str, Any], path: str
    ) -> None:
        properties: dict[str, Any] = schema.get("properties", {})
        patterns: dict[str, Any] = schema.get("patternProperties", {})
        match keyword:
            case "properties":
                for name, sub in value.items():
                    if name in instance:
                        self.check(sub, instance[name], f"{path}.{name}")
            case "required":
                missing = [name for name in value if name not in instance]
                if missing:
                    raise SchemaError(f"{path}: missing {missing}")
            case "patternProperties":
                for pattern, sub in value.items():
                    for name, item in instance.items():
                        if re.search(pattern, name):
                            self.check(sub, item, f"{path}.{name}")
            case "additionalProperties":
                for name, item in instance.items():
                    if name in properties or any(re.search(p, name) for p in patterns):
                        continue
                    if value is False:
                        raise SchemaError(f"{path}: unexpected property {name!r}")
                    if isinstance(value, dict):
                        self.check(value, item, f"{path}.{name}")
            case "propertyNames":
                for name in instance:
                    self.check(value, name, f"{path}[{name!r}]")
            case "maxProperties":
                if len(instance) > value:
                    raise SchemaError(f"{path}: more than {value} properties")
            case "minProperties":
                if len(instance) < value:
                    raise SchemaError(f"{path}: fewer than {value} properties")

    def check_array(self, keyword: str, value: Any, instance: list[Any], path: str) -> None:
        match keyword:
            case "items":
                for index, item in enumerate(instance):
                    self.check(value, item, f"{path}[{index}]")
            case "maxItems":
                if len(instance) > value:
                    raise SchemaError(f"{path}: more than {value} items")
            case "minItems":
                if len(instance) < value:
                    raise SchemaError(f"{path}: fewer than {value} items")
            case "uniqueItems":
                if value and len({repr(item) for item in instance}) != len(instance):
                    raise SchemaError(f"{path}: items are not unique")


def _is_type(instance: Any, expected: str | list[str]) -> bool:
    if isinstance(expected, list):
        return any(_is_type(instance, option) for option in expected)
    match expected:
        case "object":
            return isinstance(instance, dict)
        case "array":
            return isinstance(instance, list)
        case "string":
            return isinstance(instance, str)
        case "boolean":
            return isinstance(instance, bool)
        case "integer":
            return isinstance(instance, int) and not isinstance(instance, bool)
        case "number":
            return isinstance(instance, int | float) and not isinstance(instance, bool)
        case "null":
            return instance is None
    raise SchemaError(f"unsupported type {expected!r}")


def _check_string(keyword: str, value: Any, instance: str, path: str) -> None:
    if keyword == "maxLength" and len(instance) > value:
        raise SchemaError(f"{path}: longer than {value}")
    if keyword == "minLength" and len(instance) < value:
        raise SchemaError(f"{path}: shorter than {value}")
    if keyword == "pattern" and not re.search(value, instance):
        raise SchemaError(f"{path}: {instance!r} does not match {value!r}")


def _check_number(keyword: str, value: float, instance: float, path: str) -> None:
    broken = {
        "maximum": instance > value,
        "minimum": instance < value,
        "exclusiveMaximum": instance >= value,
        "exclusiveMinimum": instance <= value,
    }[keyword]
    if broken:
        raise SchemaError(f"{path}: {keyword} {value}")
