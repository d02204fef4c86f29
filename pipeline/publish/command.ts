/** `raft-ns publish <artifact> --registry artifacts/ [--sign-key key.pem] [--report file]`. */
import type { Command } from 'commander';
import { publishArtifact } from './publish.js';
import { readKeyFile } from './signature.js';

export function register(program: Command): void {
  program
    .command('publish')
    .description('copy a verified artifact into the registry as <model>/<version>/ (immutable, atomic) and list it in index.json')
    .argument('<artifact>', 'artifact folder (output of quantize, checked by verify)')
    .option('--registry <dir>', 'registry root', 'artifacts')
    .option('--sign-key <file>', 'Ed25519 private key (PKCS#8 PEM) to sign manifest.json with (writes manifest.sig)')
    .option('--report <file>', 'verification report (default: verification-report.json in or beside the artifact)')
    .action(async (artifact: string, o: { registry: string; signKey?: string; report?: string }) => {
      const r = await publishArtifact(artifact, {
        registryDir: o.registry,
        ...(o.report !== undefined ? { reportPath: o.report } : {}),
        ...(o.signKey !== undefined ? { signKey: { pem: readKeyFile(o.signKey), file: o.signKey } } : {}),
      });
      const what = r.status === 'published' ? 'published' : 'already published with the same bytes (no change)';
      process.stdout.write(
        `publish: ${r.model} ${r.version} ${what}\n  folder   ${r.dir}\n  weights  sha256 ${r.weightsSha256}\n  files    ${r.files.length}${r.signed ? ', manifest signed (Ed25519)' : ''}\n`,
      );
    });
}
