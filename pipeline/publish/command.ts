/**
 * `raft-ns publish <artifact> --registry artifacts/ [--sign-key key.pem] [--report file] [--allow-not-run ids]`
 * and `raft-ns registry check [--registry artifacts/]`.
 */
import type { Command } from 'commander';
import { parseExisting, parseIntIn } from '../util/options.js';
import { addOutputOptions, makeOutput, type OutputFlags } from '../util/output.js';
import { publishArtifact } from './publish.js';
import { checkRegistry } from './registry.js';
import { readKeyFile } from './signature.js';

interface PublishCliOptions extends OutputFlags {
  registry: string;
  signKey?: string;
  report?: string;
  allowNotRun?: string;
  lockTimeoutMs: number;
}

export function register(program: Command): void {
  const publish = program
    .command('publish')
    .description('copy a verified artifact into the registry as <model>/<version>/ (immutable, atomic) and list it in index.json')
    .argument('<artifact>', 'artifact folder (output of quantize, checked by verify)', parseExisting('dir'))
    .option('--registry <dir>', 'registry root', 'artifacts')
    .option('--sign-key <file>', 'Ed25519 private key (PKCS#8 PEM) to sign manifest.json with (writes manifest.sig)', parseExisting('file'))
    .option('--report <file>', 'verification report (default: verification-report.json in or beside the artifact)', parseExisting('file'))
    .option('--allow-not-run <checks>', 'comma-separated checks of verify (e.g. d,f) whose "not-run" is accepted; recorded in index.json and the model card')
    .option('--lock-timeout-ms <ms>', 'how long to wait for another publish holding the registry lock', parseIntIn(0), 60000);
  addOutputOptions(publish, 'the publish result (status, model, version, folder, files)')
    .action(async (artifact: string, o: PublishCliOptions) => {
      const out = makeOutput(o);
      const r = await publishArtifact(artifact, {
        registryDir: o.registry,
        lockTimeoutMs: o.lockTimeoutMs,
        ...(o.report !== undefined ? { reportPath: o.report } : {}),
        ...(o.allowNotRun !== undefined ? { allowNotRun: o.allowNotRun.split(',').map((x) => x.trim()).filter(Boolean) } : {}),
        ...(o.signKey !== undefined ? { signKey: { pem: readKeyFile(o.signKey), file: o.signKey } } : {}),
      });
      const what = r.status === 'published' ? 'published' : r.status === 'repaired' ? 'repaired (its folder was broken; rebuilt from the same model bytes)' : 'already published with the same bytes (no change)';
      out.info(
        `publish: ${r.model} ${r.version} ${what}\n  folder   ${r.dir}\n  weights  sha256 ${r.weightsSha256}\n  files    ${r.files.length}${r.signed ? ', manifest signed (Ed25519)' : ''}\n` +
          (r.notRunAllowed.length ? `  not run  ${r.notRunAllowed.join(', ')} (accepted with --allow-not-run)\n` : ''),
      );
      out.result(r);
    });

  const registry = program.command('registry').description('inspect an artifact registry');
  const check = registry
    .command('check')
    .description('check every published version against index.json (files present, sha256 matching) and list debris; exits 1 on a broken version')
    .option('--registry <dir>', 'registry root', parseExisting('dir'), 'artifacts');
  addOutputOptions(check, '{registry, versions, broken, problems}').action((o: OutputFlags & { registry: string }) => {
    const out = makeOutput(o);
    const { versions, problems } = checkRegistry(o.registry);
    for (const p of problems) out.info(`${p.kind.padEnd(10)} ${p.path}: ${p.detail}\n`);
    const broken = problems.filter((p) => p.kind === 'broken' || p.kind === 'bad-index').length;
    const legacy = problems.some((p) => p.kind === 'legacy-index');
    out.info(`registry: ${o.registry}: ${versions} versions, ${broken} broken, ${problems.length - broken - (legacy ? 1 : 0)} debris${legacy ? ', legacy index (no integrity field)' : ''}\n`);
    out.result({ registry: o.registry, versions, broken, problems });
    if (broken > 0) process.exitCode = 1;
  });
}
