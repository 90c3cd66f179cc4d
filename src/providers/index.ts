import { anthropic } from './anthropic/index.ts';
import { azure } from './azure/index.ts';
import { bedrock } from './bedrock/index.ts';
import { gemini } from './gemini/index.ts';
import { ollama } from './ollama/index.ts';
import { openai } from './openai/index.ts';
import type { Provider } from './provider.ts';

/**
 * The route table's providers. A new provider is a folder under providers/ plus one entry here.
 * Order matters only for requests to unknown paths: the first provider that claims one shapes its
 * 404, and OpenAI, which claims everything, comes last.
 */
export const PROVIDERS: readonly Provider[] = [anthropic, gemini, ollama, azure, bedrock, openai];
