/**
 * `raft-ns publish <artifact> --registry artifacts/ [--sign-key key.pem] [--report file] [--allow-not-run ids]`
 * and `raft-ns registry check [--registry artifacts/]`.
 */
import type { Command } from 'commander';
import { RaftNsError } from '../util/errors.js';
import { publishArtifact } from './publish.js';
import { checkRegistry } from './registry.js';
import { readKeyFile } from './signature.js';

interface PublishCliOptions {
  registry: string;
  signKey?: string;
  report?: string;
  allowNotRun?: string;
  lockTimeoutMs: string;
}

export function register(program: Command): void {
  program
    .command('publish')
    .description('copy a verified artifact into the registry as <model>/<version>/ (immutable, atomic) and list it in index.json')
    .argument('<artifact>', 'artifact folder (output of quantize, checked by verify)')
    .option('--registry <dir>', 'registry root', 'artifacts')
    .option('--sign-key <file>', 'Ed25519 private key (PKCS#8 PEM) to sign manifest.json with (writes manifest.sig)')
    .option('--report <file>', 'verification report (default: verification-report.json in or beside the artifact)')
    .option('--allow-not-run <checks>', 'comma-separated checks of verify (e.g. d,f) whose "not-run" is accepted; recorded in index.json and the model card')
    .option('--lock-timeout-ms <ms>', 'how long to wait for another publish holding the registry lock', '60000')
    .action(async (artifact: string, o: PublishCliOptions) => {
      const lockTimeoutMs = Number(o.lockTimeoutMs);
      if (!Number.isInteger(lockTimeoutMs) || lockTimeoutMs < 0) {
        throw new RaftNsError('publish.option', `publish: --lock-timeout-ms ${JSON.stringify(o.lockTimeoutMs)}: expected an integer ≥ 0`);
      }
      const r = await publishArtifact(artifact, {
        registryDir: o.registry,
        lockTimeoutMs,
        ...(o.report !== undefined ? { reportPath: o.report } : {}),
        ...(o.allowNotRun !== undefined ? { allowNotRun: o.allowNotRun.split(',').map((x) => x.trim()).filter(Boolean) } : {}),
        ...(o.signKey !== undefined ? { signKey: { pem: readKeyFile(o.signKey), file: o.signKey } } : {}),
      });
      const what = r.status === 'published' ? 'published' : r.status === 'repaired' ? 'repaired (its folder was broken; rebuilt from the same model bytes)' : 'already published with the same bytes (no change)';
      process.stdout.write(
        `publish: ${r.model} ${r.version} ${what}\n  folder   ${r.dir}\n  weights  sha256 ${r.weightsSha256}\n  files    ${r.files.length}${r.signed ? ', manifest signed (Ed25519)' : ''}\n` +
          (r.notRunAllowed.length ? `  not run  ${r.notRunAllowed.join(', ')} (accepted with --allow-not-run)\n` : ''),
      );
    });

  const registry = program.command('registry').description('inspect an artifact registry');
  registry
    .command('check')
    .description('check every published version against index.json (files present, sha256 matching) and list debris; exits 1 on a broken version')
    .option('--registry <dir>', 'registry root', 'artifacts')
    .action((o: { registry: string }) => {
      const { versions, problems } = checkRegistry(o.registry);
      for (const p of problems) process.stdout.write(`${p.kind.padEnd(10)} ${p.path}: ${p.detail}\n`);
      const broken = problems.filter((p) => p.kind === 'broken' || p.kind === 'bad-index').length;
      const legacy = problems.some((p) => p.kind === 'legacy-index');
      process.stdout.write(`registry: ${o.registry}: ${versions} versions, ${broken} broken, ${problems.length - broken - (legacy ? 1 : 0)} debris${legacy ? ', legacy index (no integrity field)' : ''}\n`);
      if (broken > 0) process.exitCode = 1;
    });
}
