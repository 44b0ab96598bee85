// Public API of the SAM ID-card reader codec (PROTOCOL.md §3).
export {
  SAM_COMMANDS,
  SAM_HEADER_BYTES,
  SAM_MAX_FRAME_BYTES,
  SAM_MAX_LEN,
  SAM_MIN_LEN,
  SAM_PREAMBLE,
  SW3,
  describeSw3,
  encodeCommand,
  encodeFrame,
  encodeResponse,
  samChecksum,
  type SamCommand,
  type SamFrame,
} from './frame.ts';
export { SamParser, type SamParseError, type SamParseResult } from './parser.ts';
export {
  CARD_TEXT_BYTES,
  decodeCard,
  encodeCardText,
  encodeReadResponse,
  type Card,
  type CardError,
  type CardFields,
  type DecodedCard,
  type DocType,
  type Gender,
} from './card.ts';
