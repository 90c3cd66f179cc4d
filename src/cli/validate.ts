// `mockllm validate FILE...`: the start-up checks, offline. Each file is read and validated exactly
// as the server does when it starts (src/config/load.ts), so the messages are the same ones.
import { ConfigError, parseConfig, readConfigFile, type ConfigProblem } from '../config/load.ts';

export type FileReport =
  | { file: string; valid: true; responses: number; rules: number }
  | { file: string; valid: false; problems: ConfigProblem[] };

export interface ValidateReport {
  valid: boolean;
  files: FileReport[];
}

export function validateFiles(files: readonly string[]): ValidateReport {
  const reports = files.map((file): FileReport => {
    try {
      const { doc } = parseConfig(readConfigFile(file), file);
      return { file, valid: true, responses: Object.keys(doc.responses ?? {}).length, rules: (doc.rules ?? []).length };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return { file, valid: false, problems: error.problems.map((p) => ({ ...p, file: p.file || file })) };
    }
  });
  return { valid: reports.every((r) => r.valid), files: reports };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The report as a person reads it: one line per valid file, one per problem, and a summary of several. */
export function formatReport(report: ValidateReport): string {
  const lines: string[] = [];
  for (const file of report.files) {
    if (file.valid) {
      lines.push(`${file.file}: ok (${plural(file.responses, 'response')}, ${plural(file.rules, 'rule')})`);
      continue;
    }
    for (const p of file.problems) {
      // Problems that name the file themselves ("no such file: …") are printed as they are.
      if (p.message.includes(file.file)) lines.push(p.message);
      else lines.push(`${p.file}${p.line ? `:${p.line}` : ''}${p.column ? `:${p.column}` : ''}: ${p.message}`);
    }
  }
  if (report.files.length > 1) {
    const invalid = report.files.filter((f) => !f.valid).length;
    lines.push(invalid === 0 ? `${plural(report.files.length, 'file')}: all valid` : `${plural(report.files.length, 'file')}: ${invalid} invalid`);
  }
  return `${lines.join('\n')}\n`;
}
