import { anthropic } from './anthropic/index.ts';
import { azure } from './azure/index.ts';
import { bedrock } from './bedrock/index.ts';
import { gemini } from './gemini/index.ts';
import { ollama } from './ollama/index.ts';
import { openai } from './openai/index.ts';
import type { Provider } from './provider.ts';

/**
 * The route table's providers. A new provider is a folder under providers/ plus one entry here.
 * Order matters only where claims overlap: for a path several serve (GET /v1/models) or nobody
 * serves, a provider that claims the path itself wins, then the first that claims the request by
 * its headers; OpenAI, which claims everything, comes last as the fallback.
 */
export const PROVIDERS: readonly Provider[] = [anthropic, gemini, ollama, azure, bedrock, openai];
