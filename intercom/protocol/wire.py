"""The base of every model the exchange sends: events, their records and request results.

Two wire rules hold for all of them, and are why they share a base:

- A field named in ``ABSENT_WHEN_NONE`` is left out of the frame while it is None (``cause``
  appears on a ``call.state`` only once the leg ends); every other field is always sent, null
  included. The JSON Schema says the same: such a field is optional and never null.
- Fields go on the wire in the order they are declared, under their alias where they have
  one (``from`` is a Python keyword).

``wire()`` turns a model into the plain dict that ``json.dumps`` encodes. It avoids pydantic's
serialiser on purpose: a frame must stay byte for byte what ``json.dumps`` made of the dicts
the exchange built before these models existed (ASCII escapes, float spelling), and this is
also the cheapest way out (the exchange sends thousands of events a second).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema


class WireModel(BaseModel):
    """A model that travels from the exchange to clients."""

    # extra="ignore": a client keeps working when a newer exchange adds a field.
    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        json_schema_serialization_defaults_required=True,
    )

    #: Fields left out of the frame, rather than sent as null, while they are None.
    ABSENT_WHEN_NONE: ClassVar[frozenset[str]] = frozenset()
    # Worked out once per class (below), so that ``wire()`` does no per-field reflection.
    _wire_names: ClassVar[dict[str, str]] = {}
    _holds_models: ClassVar[bool] = False

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._wire_names = {
            name: field.serialization_alias
            for name, field in cls.model_fields.items()
            if field.serialization_alias and field.serialization_alias != name
        }
        unknown = cls.ABSENT_WHEN_NONE - cls.model_fields.keys()
        if unknown:
            raise TypeError(f"{cls.__name__}.ABSENT_WHEN_NONE names no field: {sorted(unknown)}")
        cls._holds_models = any(
            _mentions_model(field.annotation) for field in cls.model_fields.values()
        )

    def wire(self) -> dict[str, Any]:
        """This model as the dict that goes into a frame's ``data`` (a new dict)."""
        data = self.frame_data()
        return data.copy() if data is self.__dict__ else data

    def frame_data(self) -> dict[str, Any]:
        """Like ``wire()``, for encoding at once: may be the model's own field dict, which
        must not be changed."""
        if self._wire_names or self._holds_models or self.__pydantic_extra__:
            return self._wire_slowly()
        fields = out = self.__dict__
        for name in self.ABSENT_WHEN_NONE:
            if fields[name] is None:
                if out is fields:
                    out = fields.copy()
                del out[name]
        return out

    def _wire_slowly(self) -> dict[str, Any]:
        """Renamed fields, nested models, extra keys: the rarer events and results."""
        absent, names = self.ABSENT_WHEN_NONE, self._wire_names
        out = {
            names.get(name, name): _wire_value(value)
            for name, value in self.__dict__.items()
            if value is not None or name not in absent
        }
        if self.__pydantic_extra__:
            out = {**self.__pydantic_extra__, **out}
        return out

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        properties = target.get("properties", {})
        required = target.get("required", [])
        for name in cls.ABSENT_WHEN_NONE:
            key = cls._wire_names.get(name, name)
            if key in properties:
                properties[key] = _without_null(properties[key])
            if key in required:
                required.remove(key)
        if "required" in target and not required:
            del target["required"]
        return schema


def _wire_value(value: Any) -> Any:
    if isinstance(value, WireModel):
        return value.wire()
    if isinstance(value, list):
        return [_wire_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _wire_value(item) for key, item in value.items()}
    return value


def _mentions_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_mentions_model(arg) for arg in getattr(annotation, "__args__", ()))


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf [X, null]`` becomes ``X``: the field is either absent or an X."""
    options = schema.get("anyOf")
    if options is None:
        return schema
    kept = [option for option in options if option.get("type") != "null"]
    rest = {key: value for key, value in schema.items() if key not in ("anyOf", "default")}
    return {**kept[0], **rest} if len(kept) == 1 else {**rest, "anyOf": kept}
