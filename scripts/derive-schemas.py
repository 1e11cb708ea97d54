#!/usr/bin/env python3
# Spindle (Apache-2.0 project code).
#
# Derives src/test/resources/openai-schemas.json from OpenAI's OpenAPI spec
# (openai/openai-openapi, MIT License, Copyright (c) OpenAI): the Assistants API v2
# response/event component schemas, every schema they reference through $ref, with
# documentation stripped and two nullability fixes applied (see COMMENT below).
#
# Usage (from the repo root):
#   python3 scripts/derive-schemas.py [path/to/openai-openapi.yaml]
# The spec path defaults to ../shared/spec/openai-openapi.yaml (relative to the repo
# root). Needs python3 and PyYAML. Output is deterministic: re-running on the same
# spec rewrites the identical file.

import json
import os
import re
import sys

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SPEC = os.path.join(REPO_ROOT, "..", "shared", "spec", "openai-openapi.yaml")
OUTPUT = os.path.join(REPO_ROOT, "src", "test", "resources", "openai-schemas.json")

SPEC_REPOSITORY = "openai/openai-openapi"
SPEC_COMMIT = "f85dbe223d40e1a31cba812ab2d755c7e98a92a3"
SPEC_PATH = "openapi.yaml"

# Component schemas to keep; everything they reference through $ref is kept too.
ROOTS = [
    "AssistantObject", "ListAssistantsResponse", "DeleteAssistantResponse",
    "ThreadObject", "DeleteThreadResponse",
    "MessageObject", "ListMessagesResponse", "DeleteMessageResponse",
    "RunObject", "ListRunsResponse",
    "RunStepObject", "ListRunStepsResponse",
    "RunStepDeltaObject", "MessageDeltaObject",
    "OpenAIFile", "ListFilesResponse", "DeleteFileResponse",
    "VectorStoreObject", "ListVectorStoresResponse", "DeleteVectorStoreResponse",
    "VectorStoreFileObject", "ListVectorStoreFilesResponse", "DeleteVectorStoreFileResponse",
    "VectorStoreFileBatchObject", "VectorStoreFileContentResponse",
    "VectorStoreSearchResultsPage",
    "ListModelsResponse", "Model",
    "ErrorResponse", "Error",
    "AssistantStreamEvent",  # and, transitively, every *StreamEvent schema it lists
]

# Documentation-only schema keywords that are dropped (plus every other "x-" key).
DROPPED_KEYWORDS = {"description", "example", "examples", "title", "deprecated"}

# Keywords whose value is a map of name -> schema (the names are NOT keywords).
SCHEMA_MAP_KEYWORDS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
# Keywords whose value is a single schema (or boolean schema).
SCHEMA_KEYWORDS = {"items", "additionalProperties", "not", "if", "then", "else", "contains",
                   "propertyNames", "unevaluatedProperties", "unevaluatedItems", "additionalItems"}
# Keywords whose value is a list of schemas.
SCHEMA_LIST_KEYWORDS = {"allOf", "anyOf", "oneOf", "prefixItems"}
# Keywords whose value is plain data, kept verbatim.
DATA_KEYWORDS = {"$ref", "type", "required", "enum", "const", "format", "default", "minimum",
                 "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
                 "pattern", "minItems", "maxItems", "uniqueItems", "minProperties",
                 "maxProperties", "multipleOf", "nullable"}

REF_PREFIX = "#/components/schemas/"

# Where transformation (a) was applied (filled in by clean(), reported in the $comment).
NULLABLE_FIXES = []
# Component names reached through "$ref" keywords (filled in by clean()).
REFERENCED = set()

COMMENT = {
    "source": ("Derived from OpenAI's OpenAPI spec: repository " + SPEC_REPOSITORY + ", commit "
               + SPEC_COMMIT + ", path " + SPEC_PATH + ". MIT License, Copyright (c) OpenAI "
               "(https://openai.com)."),
    "content": ("Structure only: the component schemas " + ", ".join(ROOTS) + " and every "
                "schema they reference through $ref (refs kept as #/components/schemas/X so "
                "they resolve inside this file). Dropped schema keywords: description, example, "
                "examples, title, deprecated, x-oaiMeta, x-oaiTypeLabel, x-stainless-* and every "
                "other x- key (property names inside 'properties' are kept). Everything else is "
                "as in the spec, including additionalProperties (mostly not restricted)."),
    "transformations": [
        "(a) OpenAPI 3.0 'nullable: true' (ignored by JSON Schema 2020-12) is replaced by "
        "anyOf: [<the schema without nullable>, {\"type\": \"null\"}] so null is allowed; "
        "the 3.0 idiom allOf: [{$ref: X}, {nullable: true}] becomes "
        "anyOf: [{$ref: X}, {\"type\": \"null\"}] (applied at: {nullable_fixes}).",
        "(b) In every paginated List*Response schema (all but ListModelsResponse), first_id and last_id also allow null "
        "(anyOf with {\"type\": \"null\"}): the spec requires strings, but the real API "
        "returned null for both on an empty page.",
        "(c) In OpenAIFile, expires_at and status_details also allow null (anyOf with "
        "{\"type\": \"null\"}): the real API returned null for both on every file without an "
        "expiry; and purpose also allows 'evals', a purpose CreateFileRequest accepts on upload "
        "and the file then carries.",
    ],
    "regenerate": ("from the repo root, python3 scripts/derive-schemas.py "
                   "[path/to/openai-openapi.yaml] (default ../shared/spec/openai-openapi.yaml; "
                   "needs PyYAML). Do not edit this file by hand."),
}


class SpecLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):
    """Safe loader that keeps timestamps as strings and reads only true/false as booleans
    (YAML 1.1 would turn unquoted dates into date objects and yes/no/on/off into booleans)."""


SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))


def fail(msg):
    sys.exit("derive-schemas: " + msg)


def is_dropped(key):
    return key in DROPPED_KEYWORDS or key.startswith("x-")


def clean(schema, where):
    """Returns a copy of a schema with doc keywords dropped and 'nullable' turned into anyOf."""
    if isinstance(schema, bool):
        return schema
    if not isinstance(schema, dict):
        fail("expected a schema at %s, got %r" % (where, schema))
    out = {}
    nullable = False
    if isinstance(schema.get("allOf"), list):
        # OpenAPI 3.0 idiom "allOf: [X, {nullable: true}]" means "X or null": lift the
        # nullable-only member up to this schema.
        kept = [m for m in schema["allOf"] if not is_nullable_only(m)]
        if len(kept) != len(schema["allOf"]):
            nullable = True
            schema = dict(schema)
            if len(kept) == 1 and all(k == "allOf" or is_dropped(k) for k in schema):
                schema = {**{k: v for k, v in schema.items() if k != "allOf"}, **kept[0]}
            else:
                schema["allOf"] = kept
    for key, value in schema.items():
        if is_dropped(key):
            continue
        if key == "nullable":
            if value is not True and value is not False:
                fail("odd nullable at %s: %r" % (where, value))
            nullable = value
        elif key in SCHEMA_MAP_KEYWORDS:
            out[key] = {name: clean(sub, "%s/%s/%s" % (where, key, name)) for name, sub in value.items()}
        elif key in SCHEMA_KEYWORDS:
            out[key] = clean(value, "%s/%s" % (where, key))
        elif key in SCHEMA_LIST_KEYWORDS:
            out[key] = [clean(sub, "%s/%s/%d" % (where, key, i)) for i, sub in enumerate(value)]
        elif key in DATA_KEYWORDS:
            if key == "$ref":
                if not value.startswith(REF_PREFIX):
                    fail("unsupported $ref %r at %s" % (value, where))
                REFERENCED.add(value[len(REF_PREFIX):])
            out[key] = value
        else:
            # An unknown keyword: better to stop than to guess whether it constrains anything.
            fail("unknown schema keyword %r at %s; teach this script about it" % (key, where))
    if nullable:
        NULLABLE_FIXES.append(where)
        return allow_null(out)
    return out


def is_nullable_only(schema):
    return (isinstance(schema, dict) and schema.get("nullable") is True
            and all(k == "nullable" or is_dropped(k) for k in schema))


def allows_null(schema):
    if schema is True or schema == {}:
        return True
    if not isinstance(schema, dict):
        return False
    t = schema.get("type")
    if t == "null" or (isinstance(t, list) and "null" in t):
        return True
    return any(allows_null(s) for s in schema.get("anyOf", []))


def allow_null(schema):
    if allows_null(schema):
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def main(argv):
    if len(argv) > 2:
        fail("usage: derive-schemas.py [path/to/openai-openapi.yaml]")
    spec_path = argv[1] if len(argv) == 2 else DEFAULT_SPEC
    if not os.path.isfile(spec_path):
        fail("spec not found: %s (pass its path as the argument)" % spec_path)
    with open(spec_path, encoding="utf-8") as f:
        spec = yaml.load(f, Loader=SpecLoader)
    all_schemas = spec["components"]["schemas"]

    # Clean the roots, then follow $refs (in the cleaned schemas) transitively.
    derived = {}
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in derived:
            continue
        if name not in all_schemas:
            fail("component schema %s not found in %s" % (name, spec_path))
        derived[name] = clean(all_schemas[name], name)
        todo.extend(sorted(REFERENCED - derived.keys()))

    # (b) List responses: first_id / last_id may be null (empty pages).
    for name, schema in derived.items():
        # ListModelsResponse is not paginated: it has neither key
        if re.fullmatch(r"List\w*Response", name) and name != "ListModelsResponse":
            for key in ("first_id", "last_id"):
                if key not in schema.get("properties", {}):
                    fail("%s has no property %s" % (name, key))
                schema["properties"][key] = allow_null(schema["properties"][key])

    # (c) Files: what the live API sent and the upload accepts.
    file_props = derived["OpenAIFile"]["properties"]
    for key in ("expires_at", "status_details"):
        file_props[key] = allow_null(file_props[key])
    if "evals" not in file_props["purpose"]["enum"]:
        file_props["purpose"]["enum"] = file_props["purpose"]["enum"] + ["evals"]

    # (d) Vector stores: the live API sent name, description and expires_after as null when not set.
    store_props = derived["VectorStoreObject"]["properties"]
    for key in ("name", "description", "expires_after", "expires_at"):
        if key in store_props:
            store_props[key] = allow_null(store_props[key])
    # The live API names a batch "vector_store.file_batch" (the spec's enum says files_batch).
    batch_object = derived["VectorStoreFileBatchObject"]["properties"]["object"]
    if "vector_store.file_batch" not in batch_object["enum"]:
        batch_object["enum"] = batch_object["enum"] + ["vector_store.file_batch"]

    # JSON Schema requires "$comment" to be a string: one paragraph per line.
    comment = "\n".join([COMMENT["source"], COMMENT["content"],
                         "Transformations: " + " ".join(COMMENT["transformations"]).replace(
                             "{nullable_fixes}", ", ".join(sorted(NULLABLE_FIXES))),
                         "Regenerate: " + COMMENT["regenerate"]])
    doc = {"$comment": comment, "components": {"schemas": {n: derived[n] for n in sorted(derived)}}}
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    with open(OUTPUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print("wrote %s: %d schemas, %d bytes" % (os.path.relpath(OUTPUT, REPO_ROOT), len(derived),
                                              len(text.encode("utf-8"))))


if __name__ == "__main__":
    main(sys.argv)
