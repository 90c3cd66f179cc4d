// The AWS event stream binary framing (`application/vnd.amazon.eventstream`) of Bedrock's streaming
// operations, API-FORMATS §17: each message is
//   total length (uint32 BE) | headers length (uint32 BE) | prelude CRC32 | headers | payload | message CRC32
// with CRC32 as zlib computes it (IEEE), the message CRC covering everything before it. A header is
// name length (1 byte), name, value type (7 = string), value length (uint16 BE), value.
import { crc32 } from 'node:zlib';

const STRING_TYPE = 7;
const PRELUDE = 12;
const CRC = 4;

function headerBytes(headers: Readonly<Record<string, string>>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const nameBytes = Buffer.from(name, 'utf8');
    const valueBytes = Buffer.from(value, 'utf8');
    const part = Buffer.alloc(1 + nameBytes.length + 1 + 2 + valueBytes.length);
    part[0] = nameBytes.length;
    nameBytes.copy(part, 1);
    part[1 + nameBytes.length] = STRING_TYPE;
    part.writeUInt16BE(valueBytes.length, 2 + nameBytes.length);
    valueBytes.copy(part, 4 + nameBytes.length);
    parts.push(part);
  }
  return Buffer.concat(parts);
}

/** One event-stream message: the headers (precomputed bytes) and a UTF-8 payload. */
function message(headers: Buffer, payload: string): Buffer {
  const payloadLength = Buffer.byteLength(payload, 'utf8');
  const total = PRELUDE + headers.length + payloadLength + CRC;
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(headers.length, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  headers.copy(out, PRELUDE);
  out.write(payload, PRELUDE + headers.length, 'utf8');
  out.writeUInt32BE(crc32(out.subarray(0, total - CRC)), total - CRC);
  return out;
}

// Header blocks are the same for every message of one type: built once per type.
const eventHeaders = new Map<string, Buffer>();
const exceptionHeaders = new Map<string, Buffer>();

/** An event (`:message-type: event`) whose `:event-type` is the union member name, with a JSON payload. */
export function eventFrame(eventType: string, payloadJson: string): Buffer {
  let headers = eventHeaders.get(eventType);
  if (!headers) {
    headers = headerBytes({ ':event-type': eventType, ':content-type': 'application/json', ':message-type': 'event' });
    eventHeaders.set(eventType, headers);
  }
  return message(headers, payloadJson);
}

/**
 * A modelled error inside the stream (`:message-type: exception`): `:exception-type` is the union
 * member name in camel case (`throttlingException`, `modelStreamErrorException`), the payload
 * `{"message": …}`. The SDK's iterator throws the matching typed exception.
 */
export function exceptionFrame(exceptionType: string, message_: string): Buffer {
  let headers = exceptionHeaders.get(exceptionType);
  if (!headers) {
    headers = headerBytes({ ':exception-type': exceptionType, ':content-type': 'application/json', ':message-type': 'exception' });
    exceptionHeaders.set(exceptionType, headers);
  }
  return message(headers, JSON.stringify({ message: message_ }));
}
