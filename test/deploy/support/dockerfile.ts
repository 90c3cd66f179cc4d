// The Dockerfile as data (through dockerfile-ast), and the build context as Docker would send it:
// the repository's tracked files minus what .dockerignore excludes.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerfileParser, type Copy, type Env, type From, type Healthcheck as HealthcheckInstruction, type Instruction, type JSONInstruction } from 'dockerfile-ast';
import { DockerIgnore } from './dockerignore.ts';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export type Step =
  | { kind: 'WORKDIR'; path: string; line: number }
  | { kind: 'ENV'; vars: [string, string][]; line: number }
  | { kind: 'COPY'; from: string | null; sources: string[]; dest: string; flags: Record<string, string | null>; line: number }
  | { kind: 'RUN'; command: string; line: number }
  | { kind: 'OTHER'; keyword: string; line: number };

export interface HealthcheckSpec {
  flags: Record<string, string | null>;
  /** Exec-form test command, or null when the HEALTHCHECK is shell form or NONE. */
  exec: string[] | null;
  raw: string;
}

export interface Stage {
  index: number;
  name: string | null;
  image: string;
  steps: Step[];
  user: string | null;
  expose: string[];
  healthcheck: HealthcheckSpec | null;
  entrypoint: { exec: string[] | null; raw: string } | null;
  cmd: { exec: string[] | null; raw: string } | null;
  /** ENV as it stands at the end of the stage (what the image carries). */
  env: Record<string, string>;
  workdir: string;
}

function flagsOf(instruction: { getFlags(): { getName(): string; getValue(): string | null }[] }): Record<string, string | null> {
  return Object.fromEntries(instruction.getFlags().map((flag) => [flag.getName(), flag.getValue()]));
}

function execForm(instruction: JSONInstruction): { exec: string[] | null; raw: string } {
  const raw = instruction.getArgumentsContent() ?? '';
  const json = instruction.getJSONStrings().map((s) => s.getJSONValue());
  return { exec: raw.trim().startsWith('[') ? json : null, raw };
}

export function parseDockerfile(text: string): Stage[] {
  const dockerfile = DockerfileParser.parse(text);
  const stages: Stage[] = [];
  let stage: Stage | undefined;
  for (const instruction of dockerfile.getInstructions() as Instruction[]) {
    const keyword = instruction.getKeyword();
    const line = instruction.getRange().start.line + 1;
    const args = instruction.getArguments().map((a) => a.getValue());
    if (keyword === 'FROM') {
      const from = instruction as From;
      stage = {
        index: stages.length,
        name: from.getBuildStage(),
        image: from.getImage() ?? '',
        steps: [],
        user: null,
        expose: [],
        healthcheck: null,
        entrypoint: null,
        cmd: null,
        env: {},
        workdir: '/',
      };
      stages.push(stage);
      continue;
    }
    if (!stage) {
      if (keyword === 'ARG') continue;
      throw new Error(`Dockerfile line ${line}: ${keyword} before the first FROM`);
    }
    switch (keyword) {
      case 'WORKDIR':
        stage.workdir = resolve(stage.workdir, args[0] ?? '/');
        stage.steps.push({ kind: 'WORKDIR', path: args[0] ?? '', line });
        break;
      case 'ENV': {
        const vars = (instruction as Env).getProperties().map((p): [string, string] => [p.getName(), p.getValue() ?? '']);
        for (const [name, value] of vars) stage.env[name] = value;
        stage.steps.push({ kind: 'ENV', vars, line });
        break;
      }
      case 'COPY': {
        const copy = instruction as Copy;
        const flags = flagsOf(copy);
        const json = copy.getJSONStrings().map((s) => s.getJSONValue());
        const parts = json.length > 0 ? json : args;
        if (parts.length < 2) throw new Error(`Dockerfile line ${line}: COPY needs a source and a destination`);
        stage.steps.push({ kind: 'COPY', from: flags.from ?? null, sources: parts.slice(0, -1), dest: parts.at(-1)!, flags, line });
        break;
      }
      case 'RUN':
        stage.steps.push({ kind: 'RUN', command: instruction.getArgumentsContent() ?? '', line });
        break;
      case 'USER':
        stage.user = args[0] ?? null;
        stage.steps.push({ kind: 'OTHER', keyword, line });
        break;
      case 'EXPOSE':
        stage.expose.push(...args);
        stage.steps.push({ kind: 'OTHER', keyword, line });
        break;
      case 'HEALTHCHECK': {
        const healthcheck = instruction as HealthcheckInstruction;
        const raw = healthcheck.getArgumentsContent() ?? '';
        const exec = /^CMD\s+(\[[\s\S]*\])\s*$/.exec(raw.trim());
        stage.healthcheck = { flags: flagsOf(healthcheck), exec: exec ? (JSON.parse(exec[1]!) as string[]) : null, raw };
        stage.steps.push({ kind: 'OTHER', keyword, line });
        break;
      }
      case 'ENTRYPOINT':
        stage.entrypoint = execForm(instruction as JSONInstruction);
        // Docker: setting ENTRYPOINT resets a CMD inherited from the base image.
        stage.cmd = null;
        stage.steps.push({ kind: 'OTHER', keyword, line });
        break;
      case 'CMD':
        stage.cmd = execForm(instruction as JSONInstruction);
        stage.steps.push({ kind: 'OTHER', keyword, line });
        break;
      default:
        stage.steps.push({ kind: 'OTHER', keyword, line });
    }
  }
  return stages;
}

export function readDockerfile(repo = REPO): Stage[] {
  return parseDockerfile(readFileSync(join(repo, 'Dockerfile'), 'utf8'));
}

/**
 * What `docker build` in a fresh clone would send: the files git knows (committed, or staged for
 * the next commit), minus those .dockerignore excludes. An untracked file the image needs is
 * therefore missing here, as it would be in CI.
 */
export function buildContextFiles(repo = REPO): string[] {
  const tracked = execFileSync('git', ['ls-files', '-z', '--cached'], { cwd: repo, encoding: 'utf8' })
    .split('\0')
    .filter((path) => path !== '');
  const ignorePath = join(repo, '.dockerignore');
  const ignore = existsSync(ignorePath) ? DockerIgnore.parse(readFileSync(ignorePath, 'utf8')) : new DockerIgnore([]);
  return [...new Set(tracked)].filter((path) => !ignore.excludes(path)).sort();
}

/**
 * Writes the index's version of `files` (committed or staged, not unsaved edits, which another
 * session may be halfway through) under `dir`. Neither the index nor the working tree is touched.
 */
export function exportIndexFiles(files: readonly string[], dir: string, repo = REPO): void {
  execFileSync('git', ['checkout-index', '--stdin', '-z', `--prefix=${dir.replace(/\/?$/, '/')}`], { cwd: repo, input: files.join('\0') });
}

/** The context files a COPY source names: the file itself, or everything below a directory. */
export function contextFilesUnder(files: readonly string[], source: string): string[] {
  const normalized = source.replace(/^\.\//, '').replace(/\/+$/, '');
  if (normalized === '' || normalized === '.') return [...files];
  return files.filter((file) => file === normalized || file.startsWith(`${normalized}/`));
}

export const isInit = (program: string | undefined) => /(^|\/)(tini|tini-static|dumb-init|catatonit)$/.test(program ?? '');
