// Replays the Dockerfile without Docker: each stage gets its own directory standing in for its
// root filesystem, and WORKDIR, ENV, COPY (from the context or an earlier stage) and RUN are
// carried out in order. RUN executes what can be reproduced faithfully on this machine (npm
// commands); operating-system package installs are reported as skipped, and any other RUN fails
// the simulation, so a new Dockerfile step has to be taught here rather than silently ignored.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, cp, mkdir, stat } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import { exportIndexFiles, type Stage } from './dockerfile.ts';

export interface SimulatedStage {
  stage: Stage;
  root: string;
}

export interface SimulatedImage extends SimulatedStage {
  /** Image ENV as the container would see it, with absolute paths moved under `root`. */
  env: Record<string, string>;
  /** The working directory inside `root`. */
  cwd: string;
  /** RUN steps not replayed, and why. */
  skipped: string[];
  /** Milliseconds spent per RUN step, for the report. */
  timings: { step: string; ms: number }[];
}

/** Inside a stage directory, the host path for an absolute path of the image. */
export const inRoot = (root: string, imagePath: string) => join(root, posix.resolve('/', imagePath));

const OS_PACKAGES = /^(apk (add|update|upgrade)|apt-get (update|install|clean)|rm -rf \/var\/lib\/apt\/lists)\b/;

function classifyRun(command: string): 'npm' | 'os-packages' | 'unknown' {
  const parts = command.split(/\s*(?:&&|;)\s*/).map((p) => p.trim()).filter(Boolean);
  if (parts.length > 0 && parts.every((p) => /^npm (ci|run build|prune --omit=dev)\b/.test(p))) return 'npm';
  if (parts.length > 0 && parts.every((p) => OS_PACKAGES.test(p))) return 'os-packages';
  return 'unknown';
}

/** The host's environment without the npm_* variables an enclosing `npm test` sets, which would leak into npm ci. */
export function cleanHostEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !/^npm_/i.test(e[0])));
}

async function run(command: string, cwd: string, env: Record<string, string>): Promise<void> {
  const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`RUN ${command} failed with exit code ${code}:\n${output.slice(-4000)}`);
}

async function copyInto(source: string, dest: string, destIsDir: boolean): Promise<void> {
  const info = await stat(source);
  if (info.isDirectory()) {
    // COPY dir dest copies the directory's contents, not the directory itself.
    await mkdir(dest, { recursive: true });
    await cp(source, dest, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    return;
  }
  const target = destIsDir ? join(dest, basename(source)) : dest;
  await mkdir(destIsDir ? dest : posix.dirname(target), { recursive: true });
  await cp(source, target, { preserveTimestamps: true });
}

export async function simulateBuild(stages: Stage[], contextFiles: readonly string[], work: string): Promise<SimulatedImage> {
  const context = join(work, 'context');
  await mkdir(context, { recursive: true });
  exportIndexFiles(contextFiles, context);
  const done: SimulatedStage[] = [];
  const skipped: string[] = [];
  const timings: { step: string; ms: number }[] = [];
  let cwd = '/';
  let env: Record<string, string> = {};
  let root = '';
  for (const stage of stages) {
    root = join(work, `stage-${stage.index}-${stage.name ?? 'unnamed'}`);
    await mkdir(root, { recursive: true });
    cwd = '/';
    env = {};
    for (const step of stage.steps) {
      switch (step.kind) {
        case 'WORKDIR':
          cwd = posix.resolve(cwd, step.path);
          await mkdir(inRoot(root, cwd), { recursive: true });
          break;
        case 'ENV':
          for (const [name, value] of step.vars) env[name] = value;
          break;
        case 'COPY': {
          const unsupported = Object.keys(step.flags).filter((f) => !['from', 'chown', 'chmod', 'link'].includes(f));
          if (unsupported.length > 0) throw new Error(`line ${step.line}: COPY --${unsupported.join(', --')} is not simulated`);
          let sourceRoot = context;
          if (step.from) {
            const origin = done.find((d) => d.stage.name === step.from || String(d.stage.index) === step.from);
            if (!origin) throw new Error(`line ${step.line}: COPY --from=${step.from}: no earlier stage of that name (external images are not simulated)`);
            sourceRoot = origin.root;
          }
          const dest = inRoot(root, posix.resolve(cwd, step.dest));
          const destIsDir = step.dest.endsWith('/') || step.sources.length > 1;
          for (const source of step.sources) {
            if (/[*?[]/.test(source)) throw new Error(`line ${step.line}: wildcard COPY sources are not simulated (${source})`);
            // Context sources are relative to the context root even when written absolute; stage sources are absolute paths of that stage.
            const from = step.from ? inRoot(sourceRoot, source) : join(sourceRoot, posix.normalize(`/${source}`));
            try {
              await copyInto(from, dest, destIsDir);
            } catch (error) {
              throw new Error(`line ${step.line}: COPY ${step.from ? `--from=${step.from} ` : ''}${source}: ${(error as Error).message}`);
            }
          }
          break;
        }
        case 'RUN': {
          const kind = classifyRun(step.command);
          if (kind === 'os-packages') {
            skipped.push(`line ${step.line}: RUN ${step.command} (operating-system packages of the base image; no container here)`);
            break;
          }
          if (kind === 'unknown') throw new Error(`line ${step.line}: the simulation does not know how to reproduce RUN ${step.command}`);
          const started = performance.now();
          await run(step.command, inRoot(root, cwd), { ...cleanHostEnv(), npm_config_update_notifier: 'false', ...env });
          timings.push({ step: `stage ${stage.name ?? stage.index}: ${step.command}`, ms: Math.round(performance.now() - started) });
          break;
        }
        case 'OTHER':
          break;
      }
    }
    done.push({ stage, root });
  }
  const final = done.at(-1)!;
  const imageEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    imageEnv[name] = value.startsWith('/') ? inRoot(final.root, value) : value;
  }
  return { ...final, env: imageEnv, cwd: inRoot(final.root, cwd), skipped, timings };
}

/** Opens every directory on the way to `path` to other users, for a process started with the image's uid. */
export async function openPathForOthers(path: string, stopAt: string): Promise<void> {
  for (let dir = path; dir.startsWith(stopAt); dir = posix.dirname(dir)) {
    const info = await stat(dir);
    await chmod(dir, info.mode | 0o055);
    if (dir === stopAt) break;
  }
}
