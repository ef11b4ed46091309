/**
 * kubeconform's JSON schemas, generated offline from the Kubernetes OpenAPI (v2) spec that the
 * `k8s.io/kubernetes` Go module ships (`api/openapi-spec/swagger.json`), the way the
 * `openapi2jsonschema --strict --stand-alone` conversion behind kubeconform's published schemas does:
 *
 * - one file per kind, named as kubeconform's `{{ .ResourceKind }}{{ .KindSuffix }}.json`
 *   (`deployment-apps-v1.json`, `service-v1.json`), holding the kind's schema and every definition it
 *   reaches under `definitions` (stand-alone: no network, no shared file);
 * - strict: an object with declared properties refuses any other (`additionalProperties: false`),
 *   so a misspelt or misplaced field fails validation;
 * - `kind` and `apiVersion` are fixed to the kind's own;
 * - IntOrString and Quantity accept what the API server accepts: a string or a number.
 */
import fs from 'node:fs';
import path from 'node:path';

type Schema = { [key: string]: unknown };
interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

const DEFINITION_REF = '#/definitions/';

/** Types the spec declares as strings but whose YAML form is often a number. */
const STRING_OR_NUMBER: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { oneOf: [{ type: 'string' }, { type: 'integer' }] },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { oneOf: [{ type: 'string' }, { type: 'number' }] },
};

/** A schema node made strict; descriptions and vendor extensions dropped (size only). */
function strict(schema: Schema): Schema {
  if (typeof schema.$ref === 'string') return { $ref: schema.$ref };
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'description' || key.startsWith('x-')) continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, Schema>).map(([name, property]) => [name, strict(property)]),
      );
    } else if ((key === 'items' || key === 'additionalProperties') && typeof value === 'object' && value !== null) {
      out[key] = strict(value as Schema);
    } else {
      out[key] = value;
    }
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

function refsOf(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) for (const item of node) refsOf(item, into);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith(DEFINITION_REF)) {
        into.add(value.slice(DEFINITION_REF.length));
      } else refsOf(value, into);
    }
  }
}

/** Every definition `name` reaches, itself included. */
function reachable(definitions: Record<string, Schema>, name: string): string[] {
  const seen = new Set<string>([name]);
  const queue = [name];
  while (queue.length > 0) {
    const refs = new Set<string>();
    refsOf(definitions[queue.pop()!], refs);
    for (const ref of refs) {
      if (!seen.has(ref) && definitions[ref]) {
        seen.add(ref);
        queue.push(ref);
      }
    }
  }
  return [...seen];
}

/** kubeconform's file name for a kind (`pkg/registry/registry.go`, `schemaPath`). */
export function schemaFileName({ group, version, kind }: GroupVersionKind): string {
  const suffix = group ? `-${group.split('.')[0]}-${version}` : `-${version}`;
  return `${kind.toLowerCase()}${suffix}.json`.toLowerCase();
}

/** Writes one stand-alone strict schema per kind of `swaggerFile` into `outDir`; answers how many. */
export function writeKubeSchemas(swaggerFile: string, outDir: string): number {
  const spec = JSON.parse(fs.readFileSync(swaggerFile, 'utf8')) as { definitions: Record<string, Schema> };
  const definitions = spec.definitions;
  const converted = (name: string): Schema => STRING_OR_NUMBER[name] ?? strict(definitions[name]!);
  fs.mkdirSync(outDir, { recursive: true });
  let written = 0;
  for (const [name, definition] of Object.entries(definitions)) {
    const kinds = definition['x-kubernetes-group-version-kind'] as GroupVersionKind[] | undefined;
    // Kinds shared by every group (DeleteOptions, WatchEvent) are never a manifest of their own.
    if (kinds?.length !== 1) continue;
    const gvk = kinds[0]!;
    const root = converted(name);
    const properties = { ...(root.properties as Record<string, Schema>) };
    properties.kind = { type: 'string', enum: [gvk.kind] };
    properties.apiVersion = { type: 'string', enum: [gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version] };
    const schema = {
      ...root,
      properties,
      definitions: Object.fromEntries(reachable(definitions, name).map((ref) => [ref, converted(ref)])),
    };
    fs.writeFileSync(path.join(outDir, schemaFileName(gvk)), JSON.stringify(schema));
    written += 1;
  }
  return written;
}
