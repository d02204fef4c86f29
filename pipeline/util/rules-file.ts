/**
 * Loads the safety rules a stage works against: a file (schemas/safety-rules.schema.json) or, without one,
 * the embedded default (runtime/default-rules.ts, tested equal to rules/default.rules.json). One loader for
 * `window` (label floors), `verify`, `evaluate` and `run`, so every stage names the same rules the same way.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_RULES } from '../../runtime/default-rules.js';
import { compileRules, type CompiledRules, type SafetyRules } from '../../runtime/rules.js';
import { RaftNsError } from './errors.js';
import { jsonText, sha256Hex } from './fs.js';

export interface RulesInfo {
  source: string;
  name: string;
  /** sha256 of the file's bytes, or of the canonical JSON of the embedded default. */
  sha256: string;
}

/**
 * sha256 of the rules' JSON text without the editor hint "$schema": the hash RulesInfo gives the embedded
 * default, so a file holding the same rules hashes the same whatever its layout.
 */
export function rulesContentSha256(rules: SafetyRules): string {
  const { $schema: _editorHint, ...content } = rules;
  return sha256Hex(jsonText(content));
}

export function loadRulesFile(stage: string, path: string | undefined): { rules: CompiledRules; rulesInfo: RulesInfo } {
  if (!path) {
    return { rules: compileRules(DEFAULT_RULES, 'embedded default rules'), rulesInfo: { source: 'embedded default (runtime/default-rules.ts)', name: DEFAULT_RULES.name, sha256: rulesContentSha256(DEFAULT_RULES) } };
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new RaftNsError(`${stage}.rules`, `${stage}: ${path}: cannot read the rules file (${(err as NodeJS.ErrnoException).code ?? 'error'}); expected safety rules (schemas/safety-rules.schema.json)`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new RaftNsError(`${stage}.rules`, `${stage}: ${path}: not valid JSON (${(err as Error).message}); expected safety rules (schemas/safety-rules.schema.json)`, { cause: err });
  }
  try {
    const rules = compileRules(value, path);
    return { rules, rulesInfo: { source: path, name: rules.source.name, sha256: sha256Hex(bytes) } };
  } catch (err) {
    throw new RaftNsError(`${stage}.rules`, `${stage}: ${(err as Error).message.replace(/^runtime: /, '')}`, { cause: err });
  }
}
