/**
 * The tools' contract: input and output schemas (zod), advertised to clients as JSON Schema.
 * Names are snake_case; changing one is a breaking change for every agent that uses it.
 *
 * @module
 */

import * as z from 'zod';

/** Default and largest `wait_seconds` of send_message and export_video. */
export const DEFAULT_WAIT_SECONDS = 50;
export const MAX_WAIT_SECONDS = 900;

const sessionId = z
  .string()
  .trim()
  .min(1)
  .max(128)
  .regex(/^[^\s/?#]+$/, 'a session id has no spaces or slashes')
  .describe('The session id from create_session (a string of digits: keep it a string).');

const waitSeconds = (what: string) =>
  z
    .number()
    .int()
    .min(1)
    .max(MAX_WAIT_SECONDS)
    .default(DEFAULT_WAIT_SECONDS)
    .describe(
      `How long to wait for ${what} before returning, in seconds (default ${DEFAULT_WAIT_SECONDS}, at most ${MAX_WAIT_SECONDS}). The work goes on after that; the result says how to follow it.`,
    );

/** The tool an agent should call next, and why. */
const nextTool = z.object({
  tool: z.enum(['export_video', 'get_timeline', 'get_credits', 'send_message', 'upload_media']),
  reason: z.string(),
});

const lastTurn = z.object({
  status: z
    .enum(['running', 'replied', 'silent', 'failed', 'cancelled'])
    .describe('running: the agent is still working on it; the others: how it ended.'),
  message: z.string().describe('The message as sent.'),
  sent_at: z.string().describe('When it was sent (ISO 8601).'),
  reply: z.string().optional().describe("The agent's reply, GUI wording translated."),
  changes: z.string().optional().describe('What changed in the timeline, for a silent turn.'),
  error: z.string().optional(),
  next_tools: z.array(nextTool).optional(),
});

// ── create_session ──

export const createSessionInput = z.object({
  language: z
    .string()
    .trim()
    .min(2)
    .max(16)
    .optional()
    .describe(
      'Language of the agent\'s replies, an ISO code such as "en" or "zh-CN". Default "en".',
    ),
  name: z.string().trim().min(1).max(100).optional().describe('A name for the project.'),
});

export const createSessionOutput = z.object({
  session_id: z.string(),
  task_id: z.string().optional(),
});

// ── upload_media ──

export const uploadMediaInput = z.object({
  session_id: sessionId,
  media: z
    .array(z.string().trim().min(1).max(4096))
    .min(1)
    .max(20)
    .describe(
      'Local file paths (inside the folders the server may read; relative paths start at the first) and/or http(s) links to media (a YouTube or other video page, or a direct file link).',
    ),
});

const uploadedFile = z.object({
  source: z.string().describe('The path or link as given.'),
  filename: z.string(),
  file_type: z.string().describe('video, image or audio'),
  url: z.string().describe('Where the service stores it.'),
  duration_sec: z.number().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
});

export const uploadMediaOutput = z.object({
  session_id: z.string(),
  files: z.array(uploadedFile),
});

// ── send_message ──

export const sendMessageInput = z.object({
  session_id: sessionId,
  message: z
    .string()
    .trim()
    .min(1)
    .max(10_000)
    .describe(
      'What to ask the editing agent, in plain words, e.g. "add a title \'Urban Dreams\'".',
    ),
  wait_seconds: waitSeconds("the agent's reply"),
});

export const sendMessageOutput = z.object({
  session_id: z.string(),
  status: z
    .enum(['replied', 'silent', 'pending'])
    .describe(
      'replied: the agent answered (reply). silent: it answered with edits only (changes says what changed). pending: still working after wait_seconds; the message was sent once and is NOT to be sent again; call get_timeline later for the outcome.',
    ),
  reply: z
    .string()
    .optional()
    .describe("The agent's reply, with GUI wording turned into tool names."),
  changes: z
    .string()
    .optional()
    .describe('What changed in the timeline (silent or recovered turns).'),
  recovered: z
    .boolean()
    .optional()
    .describe('True when the connection dropped and the outcome was read from the timeline.'),
  agent_tools: z.array(z.string()).describe('The editing tools the agent ran during the turn.'),
  next_tools: z
    .array(nextTool)
    .describe('Tools to call next, from what the agent said (e.g. "click Export" → export_video).'),
});

// ── get_timeline ──

export const getTimelineInput = z.object({ session_id: sessionId });

export const getTimelineOutput = z.object({
  session_id: z.string(),
  summary: z
    .string()
    .describe(
      'One line, e.g. Timeline (2 tracks): 1. Video: city.mp4 (0-30s) 2. Title: "Hi" (0-3s)',
    ),
  export_ready: z.boolean().describe('True when there is something to export.'),
  duration_ms: z.number().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  tracks: z.array(
    z.object({
      index: z.number().int(),
      kind: z.string().describe('video, audio, text or unknown'),
      type_code: z.number().optional(),
      segments: z.number().int(),
      description: z.string(),
    }),
  ),
  media: z
    .array(
      z.object({
        filename: z.string().optional(),
        url: z.string().optional(),
        duration_sec: z.number().optional(),
      }),
    )
    .describe('Media files uploaded to the session.'),
  last_turn: lastTurn
    .optional()
    .describe('The last send_message of this session through this server, when there was one.'),
});

// ── export_video ──

export const exportVideoInput = z.object({
  session_id: sessionId,
  path: z
    .string()
    .trim()
    .min(1)
    .max(4096)
    .optional()
    .describe(
      'Where to save the MP4: a file path ending in .mp4, or a folder (inside the folders the server may write; relative paths start at the first). Default: nemovideo-<session_id>.mp4 in the first folder.',
    ),
  quality: z
    .enum(['1080p', '720p', '480p'])
    .default('1080p')
    .describe('Render quality. Default 1080p (H.264 MP4).'),
  overwrite: z
    .boolean()
    .default(false)
    .describe('Replace an existing file at path. Default false.'),
  render_id: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe(
      'Continue an earlier export_video of this session (from its result) instead of starting a new render: wait for it and download it.',
    ),
  wait_seconds: waitSeconds('the render'),
});

export const exportVideoOutput = z.object({
  session_id: z.string(),
  status: z
    .enum(['saved', 'rendering'])
    .describe(
      'saved: the MP4 is at path. rendering: still rendering after wait_seconds; call export_video again with render_id (and the same path) to keep waiting and download.',
    ),
  render_id: z.string(),
  path: z.string().optional().describe('The absolute path of the saved MP4.'),
  bytes: z.number().int().optional(),
  duration_sec: z.number().optional(),
  progress: z.number().optional().describe('Render progress in percent, while rendering.'),
});

// ── get_render_status ──

export const getRenderStatusInput = z.object({
  render_id: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .describe('The render_id from an export_video result.'),
});

export const getRenderStatusOutput = z.object({
  render_id: z.string(),
  session_id: z
    .string()
    .optional()
    .describe(
      'The session rendered; absent for a render of another process when the service does not say.',
    ),
  status: z
    .string()
    .describe('pending, processing, completed, failed, cancelled (or what the service says)'),
  progress: z.number().optional(),
  error: z.string().optional(),
  path: z.string().optional().describe('Where export_video saved it, once saved.'),
});

// ── get_credits ──

export const getCreditsInput = z.object({});

export const getCreditsOutput = z.object({
  available: z.number(),
  frozen: z.number().describe('Reserved by work in progress.'),
  total: z.number(),
  account: z
    .enum(['configured', 'anonymous'])
    .describe('configured: the token given to the server; anonymous: a free starter token.'),
  register_url: z
    .string()
    .optional()
    .describe('Where an anonymous user can register for more credits.'),
});

export type NextTool = z.infer<typeof nextTool>;
export type LastTurn = z.infer<typeof lastTurn>;
