import { describe, expect, it } from 'vitest';
import { routeIntent, translateReply } from '../../src/helpers.js';

describe('routeIntent', () => {
  const table: [string, ReturnType<typeof routeIntent>][] = [
    ['Export it please', 'export'],
    ['export', 'export'],
    ['导出视频', 'export'],
    ['Download the result', 'export'],
    ['send me the video', 'export'],
    ['How many credits do I have?', 'credits'],
    ['还剩多少积分？', 'credits'],
    ['check my balance', 'credits'],
    ['余额', 'credits'],
    ['status?', 'state'],
    ['项目状态', 'state'],
    ['show tracks', 'state'],
    ['Show me the tracks', 'state'],
    ['upload a clip', 'upload'],
    ['上传素材', 'upload'],
    ['/home/me/clip.mp4', 'upload'],
    ['https://cdn.example.com/a.MOV?sig=1', 'upload'],
    ['use photo.jpg.', 'upload'],
    ['Add a title "Urban Dreams"', 'chat'],
    ['make it brighter', 'chat'],
    ['', 'chat'],
    ['the statusbar looks odd', 'chat'],
    ['exported yesterday, now trim it', 'chat'],
    ['notes.txt', 'chat'],
  ];
  for (const [text, intent] of table) {
    it(`${JSON.stringify(text)} → ${intent}`, () => {
      expect(routeIntent(text)).toBe(intent);
    });
  }

  it('applies the contract order: export, credits, state, upload, chat', () => {
    expect(routeIntent('upload this and export it')).toBe('export');
    expect(routeIntent('status of my credits')).toBe('credits');
    expect(routeIntent('upload clip.mp4 and show tracks')).toBe('state');
  });

  it('routes an attached file, and honours custom formats', () => {
    expect(routeIntent('make this nicer', { hasFile: true })).toBe('upload');
    expect(routeIntent('look at clip.xyz')).toBe('chat');
    expect(routeIntent('look at clip.xyz', { acceptedFormats: ['xyz'] })).toBe('upload');
  });
});

describe('translateReply', () => {
  it('maps the Export button to the export workflow', () => {
    const { text, actions } = translateReply('Done! Click the Export button to download.');
    expect(text).toBe('Done! Export the video to download.');
    expect(actions).toEqual([
      {
        kind: 'export',
        phrase: 'Click the Export button',
        index: 6,
        target: undefined,
        call: 'session.export()',
      },
    ]);
  });

  const english: [string, string, string[]][] = [
    [
      'Open the Music panel to pick a track.',
      'Check Music in the session state to pick a track.',
      ['state:Music'],
    ],
    [
      'You can drag and drop clips to reorder them.',
      'You can move clips to reorder them.',
      ['send:-'],
    ],
    ['Preview it in the timeline.', 'Review the timeline summary.', ['summary:-']],
    ['Please check your billing details.', 'Please check your credits.', ['credits:-']],
    ['Click Apply to confirm.', 'Use Apply to confirm.', ['api:Apply']],
    [
      'Click the "Add Text" button, then press Save.',
      'Use Add Text, then use Save.',
      ['api:Add Text', 'api:Save'],
    ],
    ['Hit export when ready.', 'Export the video when ready.', ['export:-']],
    ['Nothing to click here.', 'Nothing to click here.', []],
  ];
  for (const [reply, text, actions] of english) {
    it(`EN: ${reply}`, () => {
      const out = translateReply(reply);
      expect(out.text).toBe(text);
      expect(out.actions.map((a) => `${a.kind}:${a.target ?? '-'}`)).toEqual(actions);
    });
  }

  const chinese: [string, string, string[]][] = [
    ['请点击导出按钮下载视频', '请导出下载视频', ['export:-']],
    ['打开音乐面板选择曲目', '查看音乐状态选择曲目', ['state:音乐']],
    ['拖拽片段调整顺序', '移动片段调整顺序', ['send:-']],
    ['点击应用按钮确认', '使用应用确认', ['api:应用']],
    ['点击「字幕」', '使用字幕', ['api:字幕']],
    ['在时间线预览效果', '查看时间线摘要效果', ['summary:-']],
  ];
  for (const [reply, text, actions] of chinese) {
    it(`ZH: ${reply}`, () => {
      const out = translateReply(reply);
      expect(out.text).toBe(text);
      expect(out.actions.map((a) => `${a.kind}:${a.target ?? '-'}`)).toEqual(actions);
    });
  }

  it('lists several actions in order, with positions in the original reply', () => {
    const reply = 'Drag the clip, open the Effects tab, then click Export.';
    const { text, actions } = translateReply(reply);
    expect(text).toBe('Move the clip, check Effects in the session state, then export the video.');
    expect(actions.map((a) => a.kind)).toEqual(['send', 'state', 'export']);
    for (const a of actions) expect(reply.slice(a.index, a.index + a.phrase.length)).toBe(a.phrase);
  });

  it('is pure: the same input gives the same output', () => {
    const reply = 'Click the Export button. Click the Export button.';
    expect(translateReply(reply)).toEqual(translateReply(reply));
    expect(translateReply(reply).actions).toHaveLength(2);
  });
});
