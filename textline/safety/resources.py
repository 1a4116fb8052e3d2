"""Crisis resource directory: the hotlines volunteers can share in one click.

Data lives in textline/data/resources.yaml. Loading validates it strictly, because a
typo here could send a teen in crisis to the wrong number or to nothing at all.

A resource may carry `translations` (by language code, e.g. `es`): the fields a texter in that language
reads differently (name, sms_text, contacts...). Resource.localized(language) gives that view, the
English one where a field or the whole language is missing.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

import yaml

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "resources.yaml"
CONTACT_KINDS = ("call", "text", "chat", "web")

_RESOURCE_FIELDS = {"id", "name", "audience", "description", "contacts", "hours", "sms_text", "tags", "translations"}
# What a translation may replace (never the id or the tags, which are the same resource in any language).
_TRANSLATED_FIELDS = {"name", "audience", "description", "contacts", "hours", "sms_text"}
_CONTACT_FIELDS = {"kind", "value", "instructions"}


class ResourceError(ValueError):
    """The resource data is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class Contact:
    kind: str
    value: str
    instructions: str = ""


@dataclass(frozen=True)
class Resource:
    id: str
    name: str
    sms_text: str
    contacts: tuple[Contact, ...]
    audience: str = ""
    description: str = ""
    hours: str = ""
    tags: tuple[str, ...] = ()
    translations: dict = field(default_factory=dict, compare=False)  # language -> {field: value}

    def localized(self, language: str | None) -> "Resource":
        """This resource as a texter in `language` reads it; English fields where no translation exists."""
        changes = self.translations.get(language or "en")
        return replace(self, **changes, translations={}) if changes else self

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "audience": self.audience,
            "description": self.description,
            "contacts": [
                {"kind": c.kind, "value": c.value, "instructions": c.instructions} for c in self.contacts
            ],
            "hours": self.hours,
            "sms_text": self.sms_text,
            "tags": list(self.tags),
            # The console's one-click insert offers these to a volunteer whose texter writes in them.
            "translations": {lang: {k: v for k, v in self.localized(lang).to_dict().items() if k != "translations"}
                             for lang in self.translations},
        }


class ResourceDirectory:
    def __init__(self, resources: Iterable[Resource] = ()):
        self._by_id: dict[str, Resource] = {}
        for resource in resources:
            if resource.id in self._by_id:
                raise ResourceError(f"duplicate resource id {resource.id!r}")
            self._by_id[resource.id] = resource

    def all(self) -> list[Resource]:
        return list(self._by_id.values())

    def get(self, resource_id: str) -> Resource | None:
        return self._by_id.get(resource_id)

    def crisis_sms(self, ids: Iterable[str] = ("988", "911"), language: str | None = None) -> str:
        """One SMS combining the given resources' sms_text (in `language` where translated), in the order given.

        An unknown id raises rather than being skipped: a crisis message silently
        missing a hotline is worse than an error the console can show.
        """
        ids = list(dict.fromkeys(ids))  # drop repeats, keep order
        missing = [i for i in ids if i not in self._by_id]
        if missing:
            raise ResourceError(f"unknown resource id(s): {', '.join(map(repr, missing))}")
        return "\n".join(self._by_id[i].localized(language).sms_text for i in ids)

    def to_list(self) -> list[dict]:
        """Plain lists/dicts/strings, ready for json.dumps and the console."""
        return [r.to_dict() for r in self._by_id.values()]

    def __len__(self) -> int:
        return len(self._by_id)


def _text(entry: dict, field: str, where: str, required: bool = False) -> str:
    value = entry.get(field)
    if value is None or value == "":
        if required:
            raise ResourceError(f"{where}: missing required field {field!r}")
        return ""
    if not isinstance(value, str):
        raise ResourceError(
            f"{where}: {field!r} must be text, got {type(value).__name__} {value!r}"
            " (quote numbers in YAML, e.g. \"988\")"
        )
    if required and not value.strip():
        raise ResourceError(f"{where}: {field!r} must not be blank")
    return value.strip()


def _parse_contact(raw, where: str) -> Contact:
    if not isinstance(raw, dict):
        raise ResourceError(f"{where}: each contact must be a mapping with kind/value/instructions")
    unknown = set(raw) - _CONTACT_FIELDS
    if unknown:
        raise ResourceError(f"{where}: unknown contact field(s) {sorted(unknown)}")
    kind = _text(raw, "kind", where, required=True)
    if kind not in CONTACT_KINDS:
        raise ResourceError(f"{where}: unknown contact kind {kind!r}; use one of {', '.join(CONTACT_KINDS)}")
    return Contact(kind, _text(raw, "value", where, required=True), _text(raw, "instructions", where))


def _parse_resource(raw, where: str) -> Resource:
    if not isinstance(raw, dict):
        raise ResourceError(f"{where}: each resource must be a mapping, got {type(raw).__name__}")
    rid = _text(raw, "id", where, required=True)
    where = f"{where} (id {rid!r})"
    unknown = set(raw) - _RESOURCE_FIELDS
    if unknown:
        raise ResourceError(f"{where}: unknown field(s) {sorted(unknown)}")
    contacts = raw.get("contacts")
    if not isinstance(contacts, list) or not contacts:
        raise ResourceError(f"{where}: 'contacts' must be a non-empty list")
    tags = raw.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ResourceError(f"{where}: 'tags' must be a list of text")
    translations = raw.get("translations") or {}
    if not isinstance(translations, dict):
        raise ResourceError(f"{where}: 'translations' must map a language code to fields, e.g. es: {{sms_text: ...}}")
    return Resource(
        id=rid,
        name=_text(raw, "name", where, required=True),
        sms_text=_text(raw, "sms_text", where, required=True),
        contacts=tuple(_parse_contact(c, f"{where} contact {n + 1}") for n, c in enumerate(contacts)),
        audience=_text(raw, "audience", where),
        description=_text(raw, "description", where),
        hours=_text(raw, "hours", where),
        tags=tuple(tags),
        translations={str(lang): _parse_translation(fields, f"{where} translation {lang!r}")
                      for lang, fields in translations.items()},
    )


def _parse_translation(raw, where: str) -> dict:
    """The fields one language replaces, checked as strictly as the English ones."""
    if not isinstance(raw, dict) or not raw:
        raise ResourceError(f"{where}: must be a mapping of the fields it translates")
    unknown = set(raw) - _TRANSLATED_FIELDS
    if unknown:
        raise ResourceError(f"{where}: unknown or untranslatable field(s) {sorted(unknown)}")
    fields = {name: _text(raw, name, where, required=True) for name in raw if name != "contacts"}
    if "contacts" in raw:
        contacts = raw["contacts"]
        if not isinstance(contacts, list) or not contacts:
            raise ResourceError(f"{where}: 'contacts' must be a non-empty list")
        fields["contacts"] = tuple(_parse_contact(c, f"{where} contact {n + 1}") for n, c in enumerate(contacts))
    return fields


def _read(path: Path) -> list[Resource]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResourceError(f"cannot read resource file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ResourceError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("resources"), list):
        raise ResourceError(f"{path}: expected a top-level 'resources:' list")
    return [_parse_resource(raw, f"{path} resource {n + 1}") for n, raw in enumerate(data["resources"])]


def load_resources(path: str | Path | None = None, extra_paths: Iterable[str | Path] = ()) -> ResourceDirectory:
    """Load the directory from `path` (default: the bundled file) plus any local extras.

    Extras add resources (e.g. regional services); reusing an existing id is an error
    rather than a silent override.
    """
    seen: dict[str, Path] = {}
    resources: list[Resource] = []
    for p in [Path(path or DEFAULT_PATH), *map(Path, extra_paths)]:
        for resource in _read(p):
            if resource.id in seen:
                raise ResourceError(f"{p}: duplicate resource id {resource.id!r} "
                                    f"(already defined in {seen[resource.id]})")
            seen[resource.id] = p
            resources.append(resource)
    return ResourceDirectory(resources)


@functools.lru_cache(maxsize=1)
def default_directory() -> ResourceDirectory:
    """The bundled directory, loaded once per process (call .cache_clear() to reload)."""
    return load_resources()
