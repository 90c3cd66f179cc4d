// The command line's flags, in one table: the parser, the synopsis and the help are built from
// it, so a flag cannot be added to one and forgotten in another. Imports nothing, so that
// `mockllm --help` and `--version` answer without loading the server.

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The flag may be given several times (its values are collected in order). */
  multiple?: boolean;
  /** The value's placeholder in the synopsis (string flags). */
  value?: string;
  /** Environment variable that sets the same thing. */
  env?: string;
  help: string;
}

/** Flags of `mockllm` (serving). `--help` and `--version` are listed separately. */
export const SERVE_FLAGS = {
  config: { type: 'string', value: 'PATH', env: 'MOCKLLM_CONFIG', help: 'YAML config file (default: ./config/responses.yml, else the bundled default config)' },
  port: { type: 'string', value: 'N', env: 'PORT', help: 'port to listen on (default 8000; 0 picks a free port)' },
  host: { type: 'string', value: 'H', env: 'HOST', help: 'address to bind (default 127.0.0.1)' },
  'log-level': { type: 'string', value: 'L', env: 'LOG_LEVEL', help: 'fatal|error|warn|info|debug|trace|silent (default info)' },
  'log-format': { type: 'string', value: 'F', env: 'MOCKLLM_LOG_FORMAT', help: 'json|pretty (default: pretty on a terminal, json otherwise)' },
  strict: { type: 'boolean', env: 'MOCKLLM_STRICT=1', help: 'reject what the real APIs reject' },
  'admin-token': { type: 'string', value: 'T', env: 'MOCKLLM_ADMIN_TOKEN', help: 'require "Authorization: Bearer T" on /admin/*' },
  'no-admin': { type: 'boolean', help: 'remove the admin API entirely' },
  'shutdown-grace-ms': { type: 'string', value: 'N', env: 'MOCKLLM_SHUTDOWN_GRACE_MS', help: 'on SIGTERM/SIGINT, how long in-flight requests may finish (default 10000)' },
  redis: { type: 'string', value: 'URL', env: 'MOCKLLM_REDIS_URL', help: 'share admin changes, sequences, the journal and stored responses between replicas through this Redis (redis://host:6379)' },
  'redis-prefix': { type: 'string', value: 'P', env: 'MOCKLLM_REDIS_PREFIX', help: 'prefix of every Redis key and channel, so several mocks can share one Redis (default mockllm:)' },
  upstream: { type: 'string', multiple: true, value: 'PROVIDER=URL', env: 'MOCKLLM_UPSTREAM_<PROVIDER>', help: "forward requests no rule matches to the provider's real API, e.g. openai=https://api.openai.com (repeatable)" },
  record: { type: 'string', value: 'FILE', env: 'MOCKLLM_RECORD', help: 'append every proxied exchange that completed to FILE as a rule (a config --config loads)' },
  'record-errors': { type: 'boolean', env: 'MOCKLLM_RECORD_ERRORS=1', help: 'record upstream 4xx/5xx answers as error rules too' },
  'upstream-timeout-ms': { type: 'string', value: 'N', env: 'MOCKLLM_UPSTREAM_TIMEOUT_MS', help: 'how long an upstream may stay silent before the request fails with 504 (default 600000)' },
} as const satisfies Record<string, FlagSpec>;

export const INFO_FLAGS = {
  help: { type: 'boolean', short: 'h', help: 'show this help' },
  version: { type: 'boolean', short: 'v', help: "print mockllm's version" },
} as const satisfies Record<string, FlagSpec>;

export const VALIDATE_FLAGS = {
  json: { type: 'boolean', help: 'one JSON document on stdout, for CI' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
} as const satisfies Record<string, FlagSpec>;

const synopsisOf = (flags: Record<string, FlagSpec>) =>
  Object.entries(flags)
    .map(([name, spec]) => `[--${name}${spec.value ? ` ${spec.value}` : ''}]${spec.multiple ? '...' : ''}`)
    .join(' ');

function optionLines(flags: Record<string, FlagSpec>): string {
  return Object.entries(flags)
    .map(([name, spec]) => {
      const left = `  ${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`;
      const help = spec.env ? `${spec.help} (env ${spec.env})` : spec.help;
      return left.length < 24 ? `${left.padEnd(24)}${help}` : `${left}\n${' '.repeat(24)}${help}`;
    })
    .join('\n');
}

export const USAGE = `Usage: mockllm ${synopsisOf(SERVE_FLAGS)}
       mockllm validate [--json] FILE...
       mockllm --help | --version

Serve mock OpenAI and Anthropic APIs, answering from a YAML config file.

Options:
${optionLines(SERVE_FLAGS)}
${optionLines(INFO_FLAGS)}

Commands:
  validate FILE...      check config files without starting a server; exits 0 when all are valid,
                        1 when any is not (mockllm validate --help)
`;

export const VALIDATE_USAGE = `Usage: mockllm validate [--json] FILE...

Checks each config file as the server checks it at start-up (YAML, schema, regexes, ids) and
prints the same messages, naming the file, the line and what is wrong. Exits 0 when every file is
valid, 1 when any is not, 2 on a usage error.

Options:
${optionLines(VALIDATE_FLAGS)}
`;
