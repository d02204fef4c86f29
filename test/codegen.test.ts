/**
 * Generated files stay what their sources say: editing rules/default.rules.json or
 * schemas/train-config.schema.json without `npm run generate` (or editing a generated file by hand) fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedFiles, renderSchemaInterface } from '../pipeline/util/codegen.js';
import { defaultTrainConfig } from '../pipeline/train/config.js';
import { DEFAULT_RULES } from '../runtime/default-rules.js';

const ROOT = new URL('..', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, ROOT), 'utf8');

describe('generated files', () => {
  it.each(generatedFiles().map((f) => [f.path, f.text] as const))('%s is what the generator writes now', (path, text) => {
    expect(read(path)).toBe(text);
  });

  it('the embedded default rules equal rules/default.rules.json, keys in file order (the pipeline hashes their JSON)', () => {
    const { $schema, ...rules } = JSON.parse(read('rules/default.rules.json')) as Record<string, unknown>;
    expect($schema).toBe('../schemas/safety-rules.schema.json');
    expect(DEFAULT_RULES).toEqual(rules);
    expect(JSON.stringify(DEFAULT_RULES)).toBe(JSON.stringify(rules));
  });

  it('TrainConfig names every key of the train-config schema, and the defaults fill all of them', () => {
    const props = Object.keys((JSON.parse(read('schemas/train-config.schema.json')) as { properties: object }).properties);
    const declared = [...read('pipeline/train/config.generated.ts').matchAll(/^ {2}(\w+)\??: /gm)].map((m) => m[1]);
    expect(declared).toEqual(props);
    expect(Object.keys(defaultTrainConfig())).toEqual(props);
  });

  it('the interface renderer refuses schema constructs it cannot express', () => {
    const schema = (properties: object): string => JSON.stringify({ type: 'object', properties });
    expect(renderSchemaInterface(schema({ a: { type: 'integer' }, b: { type: ['array', 'null'], items: { type: 'number' }, minItems: 2, maxItems: 2 } }), 'T', 's')).toContain(
      '  a?: number;\n  b?: [number, number] | null;\n',
    );
    expect(() => renderSchemaInterface(schema({ a: { $ref: '#/$defs/x' } }), 'T', 's')).toThrow(/expected "type", "enum" or "const"/);
    expect(() => renderSchemaInterface(schema({ a: { type: 'object' } }), 'T', 's')).toThrow(/type "object" is not supported/);
  });
});
