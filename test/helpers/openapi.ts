import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";

/**
 * The schemas of the official OpenAI OpenAPI document (../shared/fixtures/openai-openapi/openapi.json) that the
 * proxy's answers are checked against, with everything they reference, kept in the repo so the tests never
 * depend on a sibling directory.
 */
const SPEC_PATH = resolve(import.meta.dirname, "../fixtures/openai-openapi-subset.json");

let ajv: Ajv2020 | undefined;

function load(): Ajv2020 {
  if (ajv) return ajv;
  const spec = JSON.parse(readFileSync(SPEC_PATH, "utf8")) as { components: { schemas: Record<string, unknown> } };
  ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: "openapi", components: normalizeNullable(spec.components) });
  return ajv;
}

/** Validate `value` against `components.schemas[name]`; returns ajv's errors (empty when valid). */
export function validateAgainst(name: string, value: unknown): string[] {
  const validate = load().getSchema(`openapi#/components/schemas/${name}`);
  if (!validate) throw new Error(`no schema ${name}`);
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

/**
 * The spec still uses OpenAPI 3.0's `nullable: true` (sometimes without a `type`, sometimes beside an `enum`
 * that lacks null). Rewrite it in JSON Schema terms: null is one more allowed type and value.
 */
function normalizeNullable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalizeNullable);
  if (!value || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = normalizeNullable(v);
  if ("nullable" in out) {
    const nullable = out.nullable === true;
    delete out.nullable;
    if (nullable && typeof out.type === "string") out.type = [out.type, "null"];
    if (nullable && Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  return out;
}
