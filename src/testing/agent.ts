/**
 * The scripted agent behind `/run_sse`: the default script (the reference workflow of the
 * contract §3) and the mapping of high-level {@link AgentItem}s to wire payloads.
 *
 * @module
 */

import { emptyDraft, withMusic, withTitle, withVideos } from './draft.js';
import { APP_NAME, BGM_VOLUME, COSTS, TITLE_DURATION_MS } from './protocol.js';
import type { AgentContext, AgentItem, EventStyle, HeartbeatStyle, ToolCallSpec } from './types.js';
import { isRecord, randomId } from './util.js';

/** What the default agent needs beyond the public context. */
export interface DefaultAgentEnv {
  cdnUrl: string;
  taskName: string;
}

const QUOTED = /['"“‘«]([^'"”’»]+)['"”’»]/;

function resolutionOf(message: string): { width: number; height: number; label: string } {
  const vertical = /\b(vertical|portrait|9:16|tiktok|reels?|shorts)\b/i.test(message);
  let w = 1920;
  let h = 1080;
  let label = '1080p';
  if (/\b720p\b/i.test(message)) {
    w = 1280;
    h = 720;
    label = '720p';
  } else if (/\b(480p|sd)\b/i.test(message)) {
    w = 854;
    h = 480;
    label = '480p';
  }
  return vertical ? { width: h, height: w, label } : { width: w, height: h, label };
}

/**
 * The default script. Rules, first match wins:
 * - a message mentioning a title ("add a title 'X'"): a **silent** turn (tool events only)
 *   adding a text track;
 * - background music / BGM: adds an audio track at 35 %;
 * - "generate …": a generated clip (100 credits) in `generated_media`;
 * - download / export / convert / MP4 / 1080p…: puts the uploaded videos on a video track
 *   at the requested resolution (asks for an upload when there is none);
 * - anything else: a short text reply, no tools, no charge.
 * Edits charge 50 credits once per session; the charge happens before the stream starts,
 * so a user without credits gets code 2001 instead of a stream.
 */
export function defaultAgentItems(
  message: string,
  ctx: AgentContext,
  env: DefaultAgentEnv,
): AgentItem[] {
  const base = () => ctx.draft ?? emptyDraft(env.taskName);

  if (/\b(title|caption|headline)\b|标题/i.test(message)) {
    const text = QUOTED.exec(message)?.[1]?.trim() || 'Title';
    ctx.chargeEdit();
    const call: ToolCallSpec = {
      name: 'add_text',
      args: { text, start_ms: 0, duration_ms: TITLE_DURATION_MS, style: 'title' },
    };
    return [
      { toolCall: call },
      { effect: () => ctx.setDraft(withTitle(base(), text)) },
      { toolResult: { name: 'add_text', response: { status: 'success', track: 'text', text } } },
    ];
  }

  if (/\b(background music|music|bgm|soundtrack)\b|音乐/i.test(message)) {
    ctx.chargeEdit();
    return [
      { toolCall: { name: 'search_music', args: { mood: 'lo-fi', limit: 1 } } },
      {
        toolResult: {
          name: 'search_music',
          response: { status: 'success', tracks: [{ name: 'Lo-fi', duration_s: 120 }] },
        },
      },
      { toolCall: { name: 'add_bgm', args: { name: 'Lo-fi', volume: BGM_VOLUME } } },
      { effect: () => ctx.setDraft(withMusic(base(), env.cdnUrl)) },
      { toolResult: { name: 'add_bgm', response: { status: 'success', volume: BGM_VOLUME } } },
      {
        text: `Added background music "Lo-fi" at ${Math.round(BGM_VOLUME * 100)}% volume. Open the audio panel to adjust it.`,
      },
    ];
  }

  if (/\bgenerate\b|生成/i.test(message)) {
    ctx.charge(COSTS.generation);
    const id = `gen_${randomId(10)}`;
    const url = `${env.cdnUrl}/uploads/generated/${id}.mp4`;
    return [
      { text: 'Generating a clip for you.' },
      { toolCall: { name: 'generate_video', args: { prompt: message, duration_s: 5 } } },
      {
        effect: () =>
          ctx.addGeneratedMedia({ id, type: 'video', url, prompt: message, duration: 5 }),
      },
      { toolResult: { name: 'generate_video', response: { status: 'success', id, url } } },
      { text: 'Your 5-second clip is ready in the media panel.' },
    ];
  }

  if (/\b(download|export|render|convert|mp4|1080p|720p)\b|导出|下载/i.test(message)) {
    const videos = ctx.videoInfos.filter((f) => f.file_type === 'video');
    if (videos.length === 0) {
      return [{ text: 'Please upload a video first: I do not see any media in this project yet.' }];
    }
    const res = resolutionOf(message);
    ctx.chargeEdit();
    return [
      { text: `Sure! Preparing your video in MP4 at ${res.label}.` },
      {
        toolCall: {
          name: 'import_media',
          args: { urls: videos.map((v) => v.cdn_url), track: 'video' },
        },
      },
      { effect: () => ctx.setDraft(withVideos(base(), videos, res)) },
      {
        toolResult: { name: 'import_media', response: { status: 'success', added: videos.length } },
      },
      {
        toolCall: {
          name: 'set_export_settings',
          args: { format: 'mp4', width: res.width, height: res.height },
        },
      },
      { toolResult: { name: 'set_export_settings', response: { status: 'success' } } },
      {
        text: `Done: your video is on the timeline at ${res.width}x${res.height}. Click the Export button to download it as MP4.`,
      },
    ];
  }

  return [
    {
      text: "Hi! I'm Nemo, your video editing agent. Upload a video, then tell me what to change, for example: add a title 'Hello'.",
    },
  ];
}

/** One chunk of the SSE stream. `counted` frames count for `cutAfterEvents`/`stallAfterEvents`. */
export interface Frame {
  text: string;
  counted: boolean;
}

/** Encoding settings. */
export interface EncodeSettings {
  style: EventStyle;
  partial: boolean;
  heartbeatStyle: HeartbeatStyle;
  now: () => number;
}

/** Turns items into frames for one turn (keeps the ids of the turn). */
export class TurnEncoder {
  readonly invocationId = `e-${crypto.randomUUID()}`;
  readonly #callIds = new Map<string, string>();

  constructor(readonly settings: EncodeSettings) {}

  heartbeat(): Frame {
    switch (this.settings.heartbeatStyle) {
      case 'empty-data':
        return { text: 'data:\n\n', counted: false };
      case 'typed':
        return { text: 'data: {"type":"heartbeat"}\n\n', counted: false };
      default:
        return { text: ': heartbeat\n\n', counted: false };
    }
  }

  #data(payload: unknown): Frame {
    return { text: `data: ${JSON.stringify(payload)}\n\n`, counted: true };
  }

  #adk(role: 'model' | 'user', parts: unknown[], extra: Record<string, unknown> = {}): Frame {
    return this.#data({
      content: { role, parts },
      ...extra,
      invocationId: this.invocationId,
      author: APP_NAME,
      actions: { stateDelta: {}, artifactDelta: {}, requestedAuthConfigs: {} },
      id: randomId(8),
      timestamp: this.settings.now() / 1000,
    });
  }

  #callPart(call: ToolCallSpec): { functionCall: Record<string, unknown> } {
    const id = call.id ?? `adk-${crypto.randomUUID()}`;
    this.#callIds.set(call.name, id);
    return { functionCall: { id, name: call.name, args: call.args ?? {} } };
  }

  /** Frames for one item (empty for control items such as `delayMs`). */
  encode(item: AgentItem): Frame[] {
    const adk = this.settings.style === 'adk';
    if ('raw' in item) return [{ text: item.raw, counted: true }];
    if ('data' in item) return [this.#data(item.data)];
    if ('heartbeat' in item) return [this.heartbeat()];
    if ('error' in item) {
      if (!adk) return [this.#data({ code: item.code ?? 500, message: item.error })];
      if (item.as === 'event') {
        return [
          this.#adk('model', [], { errorCode: item.code ?? 'INTERNAL', errorMessage: item.error }),
        ];
      }
      return [this.#data({ error: item.error })];
    }
    if ('text' in item) {
      if (!adk) {
        const frames: Frame[] = [];
        if (!item.thought) frames.push(this.#data({ type: 'text', content: item.text }));
        if (item.toolCall) frames.push(this.#typedCall(item.toolCall));
        return frames;
      }
      const textPart = item.thought ? { text: item.text, thought: true } : { text: item.text };
      const callParts = item.toolCall ? [this.#callPart(item.toolCall)] : [];
      if (!this.settings.partial) return [this.#adk('model', [textPart, ...callParts])];
      const frames = splitText(item.text).map((chunk) =>
        this.#adk('model', [item.thought ? { text: chunk, thought: true } : { text: chunk }], {
          partial: true,
        }),
      );
      frames.push(this.#adk('model', [textPart, ...callParts], { partial: false }));
      return frames;
    }
    if ('toolCall' in item) {
      return adk
        ? [this.#adk('model', [this.#callPart(item.toolCall)])]
        : [this.#typedCall(item.toolCall)];
    }
    if ('toolResult' in item) {
      const r = item.toolResult;
      if (!adk)
        return [this.#data({ type: 'tool_result', name: r.name, result: r.response ?? null })];
      const id = r.id ?? this.#callIds.get(r.name) ?? `adk-${crypto.randomUUID()}`;
      const response = isRecord(r.response) ? r.response : { result: r.response ?? null };
      return [this.#adk('user', [{ functionResponse: { id, name: r.name, response } }])];
    }
    return [];
  }

  #typedCall(call: ToolCallSpec): Frame {
    return this.#data({ type: 'tool_call', name: call.name, args: call.args ?? {} });
  }
}

/** Split a text into up to three word-aligned deltas. */
export function splitText(text: string): string[] {
  const words = text.split(/(?<=\s)/);
  if (words.length < 3) return [text];
  const size = Math.ceil(words.length / 3);
  const out: string[] = [];
  for (let i = 0; i < words.length; i += size) out.push(words.slice(i, i + size).join(''));
  return out;
}
