/** `raft-ns demo [--model <dir>] [--port N] [--static <out-dir>]`: parses options, then serves or writes the page. */
import type { Command } from 'commander';
import { RaftNsError } from '../util/errors.js';
import { collectDemoFiles } from './files.js';
import { serveDemo, writeStaticBundle } from './serve.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('live demo page: a simulated cluster in the browser, policies side by side, the timeout adapting under network faults (localhost only)')
    .option('--model <dir>', 'artifact folder for the neuro-symbolic policy (default: the latest version in artifacts/index.json, else none: static fallback)')
    .option('--no-model', 'serve without a model (the neuro-symbolic policy shows its static fallback)')
    .option('--port <n>', 'port on 127.0.0.1 (0 = any free port)', '8787')
    .option('--static <out-dir>', 'write a self-contained static bundle to this folder instead of serving')
    .option('--force', 'replace an existing --static folder')
    .action(async (o: { model?: string | false; port: string; static?: string; force?: boolean }) => {
      const port = Number(o.port);
      if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new RaftNsError('demo.option', `demo: --port ${o.port}: expected an integer in 0–65535`);
      const { files, model } = await collectDemoFiles(o.model === false ? { modelDir: null } : o.model !== undefined ? { modelDir: o.model } : {});
      const modelLine = model ? `model ${model.name}@${model.version} (${model.dir}, weights sha256 ${model.weightsSha256.slice(0, 16)}…)` : 'no model: the neuro-symbolic policy runs on its static fallback';
      if (o.static !== undefined) {
        const r = await writeStaticBundle(files, o.static, o.force === true);
        process.stdout.write(`demo: wrote ${o.static} (${r.files} files, ${r.bytes} bytes; ${modelLine}); host it with any static web server\n`);
        return;
      }
      const { url, server } = await serveDemo(files, { port });
      process.stdout.write(`demo: ${modelLine}\ndemo: serving ${url} (Ctrl-C to stop)\n`);
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
