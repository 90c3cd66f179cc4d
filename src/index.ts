// The package entry: `import { startMockLLM } from 'mockllm'`. See README.md, "Use it from your tests".
export {
  BUNDLED_CONFIG_PATH,
  createMockLLMHandler,
  MockLLMError,
  startMockLLM,
  type LogLevel,
  type MockLLM,
  type MockLLMControl,
  type MockLLMHandler,
  type MockLLMHandlerOptions,
  type MockLLMOptions,
  type RequestEntry,
  type RequestFilter,
  type RuleEntry,
  type RuleInput,
  type SimpleRule,
} from './library.ts';
export { ConfigError } from './config/load.ts';
// The config file's types (the JSON Schema in src/config/schema.ts says the same): a config or a
// rule written in code gets completion and checking.
export type {
  AnthropicStopReason,
  Chunking,
  ConfigFile,
  EmbeddingsSpec,
  ErrorSpec,
  FaultSpec,
  LatencySpec,
  MatchMode,
  MatchSpec,
  MatchTarget,
  ModelSpec,
  OpenAiFinishReason,
  ResponseObject,
  ResponseSpec,
  RuleSpec,
  Settings,
  ToolCallSpec,
  UsageSpec,
} from './config/schema.ts';
