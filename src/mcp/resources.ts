/**
 * Resources and prompts: what an agent can read without calling a tool (the accepted formats
 * and limits; the current timeline of each session used through this server), and a prompt
 * that walks through the reference workflow with the rules of the service.
 *
 * @module
 */

import {
  type McpServer,
  ProtocolError,
  ProtocolErrorCode,
  ResourceTemplate,
} from '@modelcontextprotocol/server';
import * as z from 'zod';
import { failureOf } from './results.js';
import { uploadLimits } from './sdk.js';
import { readTimeline, timelineText } from './tools.js';
import type { Workspace } from './workspace.js';

/** URI of the formats resource. */
export const FORMATS_URI = 'nemovideo://formats';

/** Register the resources and prompts on `server`. */
export function registerResources(server: McpServer, ws: Workspace): void {
  server.registerResource(
    'formats',
    FORMATS_URI,
    {
      title: 'Accepted media and limits',
      description:
        'What upload_media accepts (formats, size limit), what export_video produces, and the local folders this server may read and write.',
      mimeType: 'application/json',
    },
    (uri) => {
      const limits = uploadLimits(ws.client);
      const value = {
        upload: {
          formats: limits.formats,
          max_bytes: limits.maxBytes,
          links: 'http(s) links to video pages (YouTube…) or to media files',
        },
        export: {
          format: 'mp4',
          codec: 'H.264',
          max_resolution: '1080x1920',
          qualities: ['1080p', '720p', '480p'],
          credits: 0,
        },
        credits: {
          editing_session: 50,
          generated_clip: 100,
          export: 0,
          new_anonymous_account: 100,
        },
        folders: ws.folders.list,
      };
      return {
        contents: [
          { uri: uri.href, mimeType: 'application/json', text: JSON.stringify(value, null, 2) },
        ],
      };
    },
  );

  server.registerResource(
    'timeline',
    new ResourceTemplate('nemovideo://sessions/{session_id}/timeline', {
      list: () => ({
        resources: ws.sessionIds.map((id) => ({
          uri: `nemovideo://sessions/${id}/timeline`,
          name: `timeline-${id}`,
          title: `Timeline of session ${id}`,
          mimeType: 'application/json',
        })),
      }),
    }),
    {
      title: 'Timeline of a session',
      description:
        'The current timeline of a session, as get_timeline returns it (summary, tracks, media, last turn), read from the service on each read.',
      mimeType: 'application/json',
    },
    async (uri, variables, ctx) => {
      const id = String(variables.session_id ?? '');
      if (!/^[^\s/?#]{1,128}$/.test(id))
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Bad session id "${id}".`);
      try {
        const value = await readTimeline(ws, id, ws.signal(ctx.mcpReq.signal));
        return {
          contents: [
            {
              uri: uri.href,
              mimeType: 'application/json',
              text: ws.scrubber.text(
                JSON.stringify({ ...value, text: timelineText(value) }, null, 2),
              ),
            },
          ],
        };
      } catch (error) {
        const failure = failureOf(error);
        throw new ProtocolError(
          ProtocolErrorCode.InternalError,
          ws.scrubber.text(`${failure.kind}: ${failure.message} ${failure.next}`),
        );
      }
    },
  );

  server.registerPrompt(
    'edit_video',
    {
      title: 'Edit a video with NemoVideo',
      description:
        'Turn a video (a local file or a link) into an edited MP4 saved on disk: the steps and the rules of the service.',
      argsSchema: z.object({
        source: z.string().min(1).describe('A local video file path or an http(s) link.'),
        instruction: z
          .string()
          .min(1)
          .describe('What to do with it, e.g. "cut it to 15 seconds and add a title \'Launch\'".'),
        output: z
          .string()
          .optional()
          .describe('Where to save the MP4 (default: nemovideo-<session>.mp4).'),
      }),
    },
    ({ source, instruction, output }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text: [
              `Edit this video with the NemoVideo tools: ${source}`,
              `Instruction: ${instruction}`,
              '',
              'Steps:',
              '1. create_session.',
              `2. upload_media with media: ["${source}"].`,
              `3. send_message with the instruction. Send it once: if the result is "pending" or the call fails after sending, call get_timeline instead of sending it again. If next_tools names a tool (e.g. export_video), call it.`,
              '4. get_timeline: check the summary and that it is ready to export.',
              `5. export_video${output ? ` with path "${output}"` : ''}. If it returns status "rendering", call it again with the render_id.`,
              '6. Tell me where the MP4 was saved, its size, and what the agent changed.',
            ].join('\n'),
          },
        },
      ],
    }),
  );
}
