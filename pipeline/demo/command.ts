/** `raft-ns demo [--model <dir>] [--port N] [--static <out-dir>]`: parses options, then serves or writes the page. */
import type { Command } from 'commander';
import { parseExisting, parseIntIn } from '../util/options.js';
import { addOutputOptions, makeOutput, type OutputFlags } from '../util/output.js';
import { collectDemoFiles } from './files.js';
import { serveDemo, writeStaticBundle } from './serve.js';

export function register(program: Command): void {
  const cmd = program
    .command('demo')
    .description('live demo page: a simulated cluster in the browser, policies side by side, the timeout adapting under network faults (localhost only)')
    .option('--model <dir>', 'artifact folder for the neuro-symbolic policy (default: the latest version in artifacts/index.json, else none: static fallback)', parseExisting('dir'))
    .option('--no-model', 'serve without a model (the neuro-symbolic policy shows its static fallback)')
    .option('--port <n>', 'port on 127.0.0.1 (0 = any free port)', parseIntIn(0, 65535), 8787)
    .option('--static <out-dir>', 'write a self-contained static bundle to this folder instead of serving')
    .option('--force', 'replace an existing --static folder');
  addOutputOptions(cmd, '{static_dir, files, bytes, model} (--static) or {url, model} once serving');
  cmd.action(async (o: OutputFlags & { model?: string | false; port: number; static?: string; force?: boolean }) => {
      const out = makeOutput(o);
      const port = o.port;
      const modelDoc = (m: { name: string; version: string; dir: string; weightsSha256: string } | null) => (m ? { name: m.name, version: m.version, dir: m.dir, weights_sha256: m.weightsSha256 } : null);
      const { files, model } = await collectDemoFiles(o.model === false ? { modelDir: null } : o.model !== undefined ? { modelDir: o.model } : {});
      const modelLine = model ? `model ${model.name}@${model.version} (${model.dir}, weights sha256 ${model.weightsSha256.slice(0, 16)}…)` : 'no model: the neuro-symbolic policy runs on its static fallback';
      if (o.static !== undefined) {
        const r = await writeStaticBundle(files, o.static, o.force === true);
        out.info(`demo: wrote ${o.static} (${r.files} files, ${r.bytes} bytes; ${modelLine}); host it with any static web server\n`);
        out.result({ static_dir: o.static, files: r.files, bytes: r.bytes, model: modelDoc(model) });
        return;
      }
      const { url, server } = await serveDemo(files, { port });
      out.info(`demo: ${modelLine}\ndemo: serving ${url} (Ctrl-C to stop)\n`);
      out.result({ url, model: modelDoc(model) });
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          server.close(() => resolve());
          server.closeAllConnections();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
