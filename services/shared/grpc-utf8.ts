// Strings on fslm's gRPC doors are valid UTF-8 or refused. proto3 requires a `string` field to hold
// valid UTF-8, and protoc's parsers (C++, Go, Java, Python) reject one that does not; protobufjs, which
// grpc-js decodes with, silently turns bad bytes into U+FFFD (a JavaScript client's lone surrogate
// arrives that way too), so text would be changed without a word. strictUtf8Service() wraps a service's
// request decoders so that each request's raw bytes are walked along its message type (from the proto
// definition the server is built from) and a request whose string field holds bytes that are not UTF-8
// is marked; the handler then refuses it with invalidUtf8Error(), naming the field.
import { isUtf8 } from 'node:buffer';
import type * as grpc from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { errors, type FslmError } from './errors.ts';

interface FieldDescriptor {
  name: string;
  number: number;
  type: string;
  typeName: string;
  label: string;
}
interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nestedType: MessageDescriptor[];
}
/** Per message: its string fields and its message fields (with their full type names), by number. */
interface MessagePlan {
  strings: Map<number, string>;
  messages: Map<number, { name: string; type: string }>;
}

const INVALID = Symbol('fslm.invalidUtf8Field');

/** The message types of a definition and their nested types, by full name. */
function messageTypes(definition: PackageDefinition): Map<string, MessageDescriptor> {
  const types = new Map<string, MessageDescriptor>();
  const add = (fullName: string, type: MessageDescriptor) => {
    types.set(fullName, type);
    for (const nested of type.nestedType ?? []) add(`${fullName}.${nested.name}`, nested);
  };
  for (const [name, entry] of Object.entries(definition)) {
    const type = (entry as { format?: string; type?: MessageDescriptor }).type;
    if ((entry as { format?: string }).format === 'Protocol Buffer 3 DescriptorProto' && type) add(name, type);
  }
  return types;
}

/** Resolves a (possibly relative) type name the way protobuf scopes names, from inside `scope`. */
function resolve(types: Map<string, MessageDescriptor>, scope: string, typeName: string): string {
  if (typeName.startsWith('.')) return typeName.slice(1);
  for (let s = scope; ; s = s.slice(0, Math.max(0, s.lastIndexOf('.')))) {
    const candidate = s ? `${s}.${typeName}` : typeName;
    if (types.has(candidate)) return candidate;
    if (!s) throw new Error(`grpc-utf8: cannot resolve message type ${typeName} from ${scope}`);
  }
}

function plans(types: Map<string, MessageDescriptor>): Map<string, MessagePlan> {
  const out = new Map<string, MessagePlan>();
  for (const [name, type] of types) {
    const plan: MessagePlan = { strings: new Map(), messages: new Map() };
    for (const f of type.field ?? []) {
      if (f.type === 'TYPE_STRING') plan.strings.set(f.number, f.name);
      else if (f.type === 'TYPE_MESSAGE') plan.messages.set(f.number, { name: f.name, type: resolve(types, name, f.typeName) });
    }
    out.set(name, plan);
  }
  return out;
}

function varint(buf: Uint8Array, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (let i = at; i < buf.length; i++) {
    value += (buf[i] & 0x7f) * 2 ** shift;
    if (buf[i] < 0x80) return [value, i + 1];
    shift += 7;
  }
  return [NaN, buf.length + 1];
}

/** The path of the first string field in `buf` (a `type` message) that is not UTF-8, or null. Malformed input is left to the decoder. */
function invalidField(all: Map<string, MessagePlan>, type: string, buf: Uint8Array, prefix: string): string | null {
  const plan = all.get(type);
  if (!plan) return null;
  let at = 0;
  while (at < buf.length) {
    const [tag, next] = varint(buf, at);
    at = next;
    const wire = tag % 8;
    const number = Math.floor(tag / 8);
    if (wire === 0) at = varint(buf, at)[1];
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const [length, start] = varint(buf, at);
      at = start + length;
      if (!(at <= buf.length)) return null;
      const bytes = buf.subarray(start, at);
      const text = plan.strings.get(number);
      if (text !== undefined && !isUtf8(bytes)) return `${prefix}${text}`;
      const message = plan.messages.get(number);
      const inner = message ? invalidField(all, message.type, bytes, `${prefix}${message.name}.`) : null;
      if (inner) return inner;
    } else return null;
  }
  return null;
}

/**
 * `service` (from grpc.loadPackageDefinition(definition)) with every request decoder checking the
 * request's strings: a request holding bytes that are not UTF-8 in a string field is still decoded,
 * and marked for invalidUtf8Error(). Throws at once if a request type is missing from `definition`.
 */
export function strictUtf8Service(service: grpc.ServiceDefinition, definition: PackageDefinition): grpc.ServiceDefinition {
  const types = messageTypes(definition);
  const all = plans(types);
  const wrapped: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [method, spec] of Object.entries(service)) {
    const requestType = (spec as unknown as { requestType?: { type?: MessageDescriptor } }).requestType?.type;
    const shape = JSON.stringify(requestType);
    const names = [...types].filter(([, t]) => JSON.stringify(t) === shape).map(([n]) => n);
    if (names.length !== 1) throw new Error(`grpc-utf8: cannot tell the request type of ${method} (${names.length} candidates)`);
    const decode = spec.requestDeserialize;
    wrapped[method] = {
      ...spec,
      requestDeserialize: (bytes: Buffer) => {
        const field = invalidField(all, names[0], bytes, '');
        if (!field) return decode(bytes);
        // Refused for its bad string even when the decoder would also stumble over the rest.
        let request: object;
        try {
          request = decode(bytes) as object;
        } catch {
          request = {};
        }
        Object.defineProperty(request, INVALID, { value: field });
        return request;
      },
    };
  }
  return wrapped as grpc.ServiceDefinition;
}

/** INVALID_ARGUMENT naming the string field of `request` that was not UTF-8 on the wire, or null. */
export function invalidUtf8Error(request: object): FslmError | null {
  const field = (request as { [INVALID]?: string })[INVALID];
  return field ? errors.invalidArgument(`invalid '${field}': the string is not valid UTF-8 (proto3 strings must be)`, field) : null;
}
