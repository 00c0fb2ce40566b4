export {
  createSegment,
  createTrack,
  decodeDraft,
  encodeDraft,
  METADATA_KEYS,
  SEGMENT_KEYS,
  type Segment,
  type Timeline,
  type TimelineMetadata,
  TRACK_TYPE_CODES,
  type Track,
  type TrackKind,
  timelineEndMs,
} from './draft.js';
export {
  type CanvasConfig,
  decodeSessionState,
  readState,
  type SessionState,
  type VideoInfo,
} from './state.js';
export {
  describeTrack,
  diffTimelines,
  isExportReady,
  summarizeTimeline,
  type TimelineChanges,
} from './summary.js';
