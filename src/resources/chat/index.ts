export {
  type AdkEvent,
  type AdkFunctionCall,
  type AdkFunctionResponse,
  type AdkPart,
  adkEventSchema,
  adkPartSchema,
  type ChatEvent,
  type ChatEventType,
  decodePayload,
  type ErrorEvent,
  type HeartbeatEvent,
  normaliseTimestamp,
  type TextEvent,
  type ThoughtEvent,
  type ToolCallEvent,
  type ToolResultEvent,
  type UnknownEvent,
} from './events.js';
export {
  type Intent,
  type ReplyAction,
  type ReplyActionKind,
  type RouteIntentOptions,
  routeIntent,
  type TranslatedReply,
  translateReply,
} from './intent.js';
export type { TurnRecovery, TurnResult } from './reply.js';
export { describeStateChange, type SendOptions, sendMessage } from './send.js';
export {
  type ChatOptions,
  type ChatReadableOptions,
  ChatStream,
  DEFAULT_CHAT_IDLE_TIMEOUT_MS,
  DEFAULT_KEPT_EVENTS,
  startChat,
} from './stream.js';
