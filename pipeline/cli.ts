#!/usr/bin/env node
/**
 * raft-ns: the command-line shell. It only parses arguments and calls stage functions (pipeline/program.ts
 * holds the command tree and the exit-code conventions).
 */
import { main } from './program.js';

await main(process.argv);
