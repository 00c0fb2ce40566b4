/**
 * Routing a user's request before anything is sent, and translating the
 * backend's GUI wording into API actions (protocol §2.3). Pure functions.
 */
import { DEFAULT_BACKEND } from '../../core/backend.js';

/** Where a user request goes: a workflow of the SDK, or a chat message. */
export type Intent = 'export' | 'credits' | 'state' | 'upload' | 'chat';

/** Options of {@link routeIntent}. */
export interface RouteIntentOptions {
  /** The user attached a file (in a chat UI): routes to `upload`, after export / credits / state. */
  hasFile?: boolean | undefined;
  /** Extensions that make a path or URL in the text count as a file. Default `DEFAULT_BACKEND.acceptedFormats`. */
  acceptedFormats?: readonly string[] | undefined;
}

/** The keyword table of the contract, in the order it is applied (first match wins). */
const INTENT_RULES: readonly { intent: Exclude<Intent, 'chat' | 'upload'>; pattern: RegExp }[] = [
  {
    intent: 'export',
    pattern:
      /\bexport(?:s|ing)?\b|导出|\bdownload(?:s|ing)?\b|\bsend me the (?:video|mp4|file|result)\b/i,
  },
  { intent: 'credits', pattern: /\bcredits?\b|积分|\bbalance\b|余额/i },
  { intent: 'state', pattern: /\bstatus\b|状态|\bshow (?:me )?(?:the |all )?tracks\b/i },
];

const UPLOAD_WORD = /\bupload(?:s|ing)?\b|上传/i;

const fileRegexCache = new Map<string, RegExp>();

function fileMention(formats: readonly string[]): RegExp {
  const key = formats.join(',');
  let re = fileRegexCache.get(key);
  if (!re) {
    const alternatives = formats.map((f) => f.replace(/[^a-z0-9]/gi, '')).filter(Boolean);
    re = new RegExp(
      `[^\\s"'()<>]+\\.(?:${alternatives.join('|')})(?=$|[\\s"'()<>,;!?]|[.](?:\\s|$)|[?#])`,
      'i',
    );
    fileRegexCache.set(key, re);
  }
  return re;
}

/**
 * Route a user's request before anything is sent (protocol §2.3):
 * `export` ("export", "导出", "download", "send me the video"),
 * `credits` ("credits", "积分", "balance", "余额"), `state` ("status", "状态",
 * "show tracks"), `upload` ("upload", "上传", or a file: an attached one, or a
 * path / URL with an accepted extension), else `chat` (send it as a message).
 * Checked in that order; English keywords match whole words (case-insensitive),
 * Chinese ones anywhere.
 *
 * Keyword routing is for free-form input in a chat UI: "download this video in
 * MP4" routes to `export`. Call `session.send()` directly to send such a
 * sentence to the agent.
 *
 * @example
 * ```ts
 * routeIntent('Export it please'); // 'export'
 * routeIntent('还剩多少积分？'); // 'credits'
 * routeIntent('/home/me/clip.mp4'); // 'upload'
 * routeIntent('Add a title "Urban Dreams"'); // 'chat'
 * ```
 */
export function routeIntent(text: string, options: RouteIntentOptions = {}): Intent {
  const input = typeof text === 'string' ? text : '';
  for (const rule of INTENT_RULES) {
    if (rule.pattern.test(input)) return rule.intent;
  }
  if (options.hasFile === true || UPLOAD_WORD.test(input)) return 'upload';
  const formats = options.acceptedFormats ?? DEFAULT_BACKEND.acceptedFormats;
  if (formats.length > 0 && fileMention(formats).test(input)) return 'upload';
  return 'chat';
}

/** What the caller should do instead of the GUI step the backend described. */
export type ReplyActionKind =
  /** "click [button]" / "点击": perform the step through the API. */
  | 'api'
  /** "open [panel]" / "打开": read the state (`session.state()`). */
  | 'state'
  /** "drag/drop" / "拖拽": send the edit as a message (`session.send()`). */
  | 'send'
  /** "preview in timeline": summarise the tracks (`summarizeTimeline`). */
  | 'summary'
  /** "Export button" / "导出": run the export workflow (`session.export()`). */
  | 'export'
  /** "check account/billing": read the credits (`client.credits.balance()`). */
  | 'credits';

/** One GUI phrase found in a reply. */
export interface ReplyAction {
  kind: ReplyActionKind;
  /** The phrase as the backend wrote it. */
  phrase: string;
  /** Where the phrase starts in the original reply. */
  index: number;
  /** The button or panel named, when there is one ("Apply", "Music"). */
  target: string | undefined;
  /** The SDK call that does it. */
  call: string;
}

/** Result of {@link translateReply}. */
export interface TranslatedReply {
  /** The reply with each GUI phrase rewritten in API terms (same language). */
  text: string;
  /** The GUI phrases, in order of appearance. */
  actions: ReplyAction[];
}

const CALLS: Record<ReplyActionKind, string> = {
  api: 'session.send()',
  state: 'session.state()',
  send: 'session.send()',
  summary: 'summarizeTimeline((await session.state()).draft)',
  export: 'session.export()',
  credits: 'client.credits.balance()',
};

const Q = `["'“”‘’「」]?`;
const CLICK = '(?:click(?:ing)?|press(?:ing)?|tap(?:ping)?|hit(?:ting)?)';
/** Case-sensitive spelling, for the rule that needs a capitalised target ("click Save"). */
const CLICK_CS = '(?:[Cc]lick(?:ing)?|[Pp]ress(?:ing)?|[Tt]ap(?:ping)?)';
const SURFACE = '(?:panel|tab|menu|window|sidebar|page|settings|dialog)';
const NAME = '([\\p{L}\\p{N}][\\p{L}\\p{N} _-]{0,30}?)';

interface ReplyRule {
  kind: ReplyActionKind;
  pattern: RegExp;
  /** Replacement text; `target` is the captured button or panel name, if any. */
  replace: (target: string | undefined) => string;
}

/** Ordered: earlier rules win where phrases overlap. */
const REPLY_RULES: readonly ReplyRule[] = [
  // "Export button" / "导出"
  {
    kind: 'export',
    pattern: new RegExp(
      `\\b${CLICK}\\s+(?:on\\s+)?(?:the\\s+)?${Q}export${Q}(?:\\s+button)?|\\b(?:the\\s+)?${Q}export${Q}\\s+button\\b`,
      'gi',
    ),
    replace: () => 'export the video',
  },
  { kind: 'export', pattern: /(?:点击|按)?[「“"]?导出[」”"]?(?:按钮)?/g, replace: () => '导出' },
  // "check account/billing"
  {
    kind: 'credits',
    pattern:
      /\b(?:check|open|visit|see)\s+(?:your\s+|the\s+)?(?:account|billing)(?:\s+(?:page|settings|details|balance))?\b/gi,
    replace: () => 'check your credits',
  },
  {
    kind: 'credits',
    pattern: /(?:查看|打开)(?:你的)?(?:账户|账号|账单)/g,
    replace: () => '查看积分',
  },
  // "preview in timeline"
  {
    kind: 'summary',
    pattern:
      /\bpreview(?:\s+(?:it|this|that|the\s+(?:result|video|edit|changes?)))?\s+(?:in|on)\s+the\s+timeline\b/gi,
    replace: () => 'review the timeline summary',
  },
  { kind: 'summary', pattern: /在时间线(?:上|中)?预览/g, replace: () => '查看时间线摘要' },
  // "drag/drop" / "拖拽"
  {
    kind: 'send',
    pattern: /\bdrag(?:ging)?(?:\s*(?:and|&|-|\/)\s*drop(?:ping)?)?\b/gi,
    replace: () => 'move',
  },
  { kind: 'send', pattern: /拖拽|拖动|拖放/g, replace: () => '移动' },
  // "open [panel]" / "打开"
  {
    kind: 'state',
    pattern: new RegExp(
      `\\bopen(?:ing)?\\s+(?:the\\s+|your\\s+)?${Q}${NAME}${Q}(?:\\s+${SURFACE})+\\b`,
      'giu',
    ),
    replace: (target) => `check ${target ?? 'it'} in the session state`,
  },
  {
    kind: 'state',
    pattern: /打开([\p{Script=Han}\w]{1,12}?)(?:面板|菜单|窗口|页面|标签页?)/gu,
    replace: (target) => `查看${target ?? ''}状态`,
  },
  // "click [button]" / "点击"
  {
    kind: 'api',
    pattern: new RegExp(
      `\\b${CLICK}\\s+(?:on\\s+)?(?:the\\s+)?${Q}${NAME}${Q}\\s+(?:button|icon|link)\\b`,
      'giu',
    ),
    replace: (target) => `use ${target ?? 'it'}`,
  },
  {
    kind: 'api',
    pattern: new RegExp(
      `\\b${CLICK_CS}\\s+(?:on\\s+)?${Q}(\\p{Lu}[\\p{L}\\p{N}_-]{0,30})${Q}`,
      'gu',
    ),
    replace: (target) => `use ${target ?? 'it'}`,
  },
  {
    kind: 'api',
    pattern: /点击(?:[「“"]([^」”"]{1,12})[」”"]|([\p{Script=Han}\w]{1,12}?)(?:按钮|图标))?/gu,
    replace: (target) => `使用${target ?? ''}`,
  },
];

function matchCase(replacement: string, original: string): string {
  const first = original.charAt(0);
  if (first !== '' && first === first.toUpperCase() && first !== first.toLowerCase()) {
    return replacement.charAt(0).toUpperCase() + replacement.slice(1);
  }
  return replacement;
}

/**
 * Map the backend's GUI wording to API actions (protocol §2.3): the agent
 * writes as if the user had an editor open ("click the Export button", "open
 * the Music panel", "拖拽"). Returns the reply with those phrases rewritten in
 * API terms, and the actions they stand for, in order.
 *
 * | backend says | action | SDK call |
 * |---|---|---|
 * | "click [button]" / "点击" | `api` | do the step through the API |
 * | "open [panel]" / "打开" | `state` | `session.state()` |
 * | "drag/drop" / "拖拽" | `send` | `session.send()` with the edit |
 * | "preview in timeline" | `summary` | `summarizeTimeline(state.draft)` |
 * | "Export button" / "导出" | `export` | `session.export()` |
 * | "check account/billing" | `credits` | `client.credits.balance()` |
 *
 * @example
 * ```ts
 * const { text, actions } = translateReply('Done! Click the Export button to download.');
 * // text: 'Done! Export the video to download.'
 * // actions: [{ kind: 'export', phrase: 'Click the Export button', call: 'session.export()', … }]
 * if (actions.some((a) => a.kind === 'export')) await session.export({ to: 'out.mp4' });
 * ```
 */
export function translateReply(text: string): TranslatedReply {
  const input = typeof text === 'string' ? text : '';
  const found: { start: number; end: number; action: ReplyAction; replacement: string }[] = [];
  const overlaps = (start: number, end: number) =>
    found.some((f) => start < f.end && end > f.start);
  for (const rule of REPLY_RULES) {
    rule.pattern.lastIndex = 0;
    for (const match of input.matchAll(rule.pattern)) {
      const phrase = match[0];
      if (phrase === '') continue;
      const start = match.index ?? 0;
      const end = start + phrase.length;
      if (overlaps(start, end)) continue;
      const target = (match[1] ?? match[2])?.trim() || undefined;
      found.push({
        start,
        end,
        replacement: matchCase(rule.replace(target), phrase),
        action: { kind: rule.kind, phrase, index: start, target, call: CALLS[rule.kind] },
      });
    }
  }
  found.sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const f of found) {
    out += input.slice(at, f.start) + f.replacement;
    at = f.end;
  }
  out += input.slice(at);
  return { text: out, actions: found.map((f) => f.action) };
}
