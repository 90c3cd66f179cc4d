// The config and helpers the Gemini tests share: every expected answer comes from here.

export const MODEL = 'gemini-2.5-flash';
export const SKY = 'The sky is blue during a clear day due to a phenomenon called Rayleigh scattering.';
export const HELLO = 'Hello from the Gemini side of the mock.';
export const UNKNOWN = 'No rule matched this prompt; this is the configured fallback.';
export const WEATHER_FINAL = 'It is 18 degrees and sunny in Paris.';
export const WEATHER_ARGS = { city: 'Paris', unit: 'celsius' };
export const FIXED_USAGE_TEXT = 'Counted by the rule, not by the tokenizer.';
export const FAULT_TEXT = 'This answer breaks after two of its words have been sent.';
export const RATE_LIMIT_MESSAGE = 'Resource has been exhausted (e.g. check quota).';
export const OVERLOADED_MESSAGE = 'The model is overloaded. Please try again later.';
export const RETRIED = 'Answered on the retry.';

export const CONFIG = `responses:
  "what colour is the sky?": ${JSON.stringify(SKY)}
  "hello": ${JSON.stringify(HELLO)}
rules:
  - id: weather-call
    match: { contains: "weather in paris", tool_result: false }
    response:
      tool_calls:
        - name: get_weather
          arguments: ${JSON.stringify(WEATHER_ARGS)}
  - id: weather-final
    match: { tool_result: get_weather }
    response: ${JSON.stringify(WEATHER_FINAL)}
  - id: rate-limited
    match: { contains: "rate limit me" }
    response: { error: { status: 429, retry_after: 7, message: ${JSON.stringify(RATE_LIMIT_MESSAGE)} } }
  - id: overloaded
    match: { contains: "overloaded please" }
    response: { error: { status: 503, message: ${JSON.stringify(OVERLOADED_MESSAGE)} } }
  - id: fixed-usage
    match: { contains: "fixed usage" }
    response: { text: ${JSON.stringify(FIXED_USAGE_TEXT)}, usage: { input_tokens: 42, output_tokens: 7 } }
  - id: cut-short
    match: { contains: "cut short" }
    response: { text: "Cut", finish_reason: length }
  - id: fault
    match: { contains: "break the stream" }
    response: { text: ${JSON.stringify(FAULT_TEXT)}, chunking: word, fault: { fail_after_chunks: 2, message: "Stream broke on purpose." } }
  - id: retry-once
    match: { contains: "retry once" }
    response:
      sequence:
        - { error: { status: 429, retry_after: 0.05 } }
        - ${JSON.stringify(RETRIED)}
defaults:
  unknown_response: ${JSON.stringify(UNKNOWN)}
`;

export interface SentRequest {
  method: string;
  url: URL;
  headers: Headers;
}

/** A fetch that records the method, URL and headers of every request a client sends. */
export function recordingFetch(): { fetch: typeof fetch; sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  const wrapped: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    sent.push({ method: init?.method ?? (input instanceof Request ? input.method : 'GET'), url, headers });
    return fetch(input, init);
  };
  return { fetch: wrapped, sent };
}
