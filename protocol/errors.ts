// One registry of Menwei error codes (STYLE.md §6). Every code has a stable name and a
// message in English and Chinese. README.md lists them all; tests/unit/errors.test.ts
// keeps the two in step. Check-in decision reasons (CHECKIN.md) are data, not errors,
// and live in protocol/checkin-reasons.ts.

export const ERRORS = {
  // SAM frames (PROTOCOL.md §3)
  MW_SAM_BAD_CHECKSUM: { en: 'SAM frame checksum (CHK) does not match', zh: 'SAM 帧校验和错误' },
  MW_SAM_BAD_LENGTH: { en: 'SAM frame length field is impossible', zh: 'SAM 帧长度字段错误' },
  MW_SAM_FRAME_TOO_LARGE: { en: 'SAM frame announces more than 4 KiB', zh: 'SAM 帧超过 4 KiB' },
  MW_SAM_TRUNCATED: { en: 'SAM frame cut off at end of input', zh: 'SAM 帧在输入结尾被截断' },
  MW_SAM_BAD_READ: { en: 'SAM read response has bad text or photo lengths', zh: 'SAM 读卡响应的文字或照片长度错误' },
  MW_SAM_BAD_CARD_TEXT: { en: 'card text block has a malformed field', zh: '身份证文字信息字段格式错误' },
  MW_SAM_DOC_UNSUPPORTED: { en: 'card type is not supported (foreign permanent resident card)', zh: '不支持的证件类型（外国人永久居留身份证）' },
  MW_SAM_STATUS: { en: 'SAM reader answered with an error status', zh: '读卡器返回错误状态' },
  MW_SAM_TIMEOUT: { en: 'SAM reader did not answer in time', zh: '读卡器响应超时' },

  // HID transport (PROTOCOL.md §3, §4)
  MW_HID_BAD_REPORT: { en: 'HID report is malformed (size or length byte)', zh: 'HID 报告格式错误（长度）' },
  MW_BADGE_TOO_SLOW: { en: 'badge digits took more than 500 ms to Enter', zh: '工牌输入超过 500 毫秒' },
  MW_BADGE_TOO_LONG: { en: 'badge has more than 64 digits before Enter', zh: '工牌号码超过 64 位' },

  // Modbus (PROTOCOL.md §5)
  MW_MODBUS_CRC: { en: 'Modbus reply failed its CRC', zh: 'Modbus 响应 CRC 错误' },
  MW_MODBUS_TIMEOUT: { en: 'Modbus slave did not answer in time', zh: 'Modbus 从站响应超时' },
  MW_MODBUS_BAD_REPLY: { en: 'Modbus reply is malformed', zh: 'Modbus 响应格式错误' },

  // MQTT payloads and topics (PROTOCOL.md §0–§2)
  MW_MSG_TOO_LARGE: { en: 'payload is larger than 64 KiB', zh: '消息超过 64 KiB' },
  MW_MSG_NOT_JSON: { en: 'payload is not a UTF-8 JSON object', zh: '消息不是 UTF-8 JSON 对象' },
  MW_MSG_UNSUPPORTED_VERSION: { en: 'payload version "v" is not 1', zh: '消息版本 v 不是 1' },
  MW_MSG_INVALID: { en: 'payload is missing a field or has a wrong type', zh: '消息缺少字段或字段类型错误' },
  MW_TOPIC_UNKNOWN: { en: 'topic is not part of the Menwei protocol', zh: '主题不属于门卫协议' },
  MW_TOPIC_BAD_DEVICE_ID: { en: 'device id in the topic is not [a-z0-9-]{3,64}', zh: '主题中的设备编号格式错误' },

  // CLI and config (INTERFACES.md)
  MW_USAGE: { en: 'command line is not valid', zh: '命令行参数错误' },
  MW_CONFIG_INVALID: { en: 'config is not valid', zh: '配置无效' },
  MW_INPUT_UNREADABLE: { en: 'input could not be read', zh: '无法读取输入' },
} as const satisfies Record<string, { en: string; zh: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** A thrown Menwei error: a registry code, the registry message, and what caused it. */
export class MenweiError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${ERRORS[code].en}: ${detail}` : ERRORS[code].en, options);
    this.name = 'MenweiError';
    this.code = code;
  }
}
