// What the platform simulator says about each upstream event (PROTOCOL.md §2.1), in
// Chinese and English. Personal data is masked as in any listing (PROTOCOL.md §0): the
// platform receives full registrations, but a demo screen is not the place to show them.
import { maskIdNumber, maskName } from '../protocol/id-number.ts';
import type { UpstreamEnvelope } from '../protocol/upstream.ts';
import type { Line } from './feed.ts';

type Data = Record<string, unknown>;
type Describe = (d: Data, e: UpstreamEnvelope) => Line;

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const guestName = (d: Data): string => maskName(str((d.guest as Data | undefined)?.name));
const guestId = (d: Data): string => maskIdNumber(str((d.guest as Data | undefined)?.idNumber));
const hhmm = (iso: unknown): string => (typeof iso === 'string' ? iso.slice(11, 16) + ' UTC' : '?');

/** PROTOCOL.md §1.2 unlock methods. */
const METHODS: Record<string, Line> = {
  code: { zh: '密码', en: 'with a code' },
  card: { zh: '门卡', en: 'with a card' },
  key: { zh: '机械钥匙', en: 'with the mechanical key' },
  app: { zh: '手机', en: 'from the app' },
  inside: { zh: '室内开门', en: 'from inside' },
};

const TEXT: Record<string, Describe> = {
  'alarm/smoke': (d) => ({ zh: `烟雾报警，登记在住 ${str(d.occupants)} 人`, en: `smoke alarm, ${str(d.occupants)} registered occupant(s)` }),
  'alarm/smoke_clear': () => ({ zh: '烟雾报警解除', en: 'smoke alarm cleared' }),
  'alarm/silenced': () => ({ zh: '报警已消音', en: 'alarm silenced' }),
  'security/wrong_code': (d) => ({ zh: `密码错误（连续 ${str(d.count)} 次）`, en: `wrong code (${str(d.count)} in a row)` }),
  'security/lockout': (d) => ({ zh: `键盘锁定至 ${hhmm(d.until)}`, en: `keypad locked out until ${hhmm(d.until)}` }),
  'security/checkin_refused': (d) => ({ zh: `拒绝入住：${str(d.reason)}（${str(d.idNumber)}）`, en: `check-in refused: ${str(d.reason)} (${str(d.idNumber)})` }),
  'security/unknown_code': () => ({ zh: '使用了未知或已撤销的密码', en: 'an unknown or revoked code was used' }),
  'security/tamper': () => ({ zh: '设备被拆', en: 'device tampered with' }),
  'security/mechanical_key': () => ({ zh: '机械钥匙开门', en: 'opened with the mechanical key' }),
  'security/door_ajar': () => ({ zh: '门未关好', en: 'door left ajar' }),
  'security/auth_failed': () => ({ zh: '设备认证失败', en: 'device authentication failed' }),
  'security/acl_denied': () => ({ zh: '设备越权发布', en: 'device publish denied by the ACL' }),
  'security/session_takeover': () => ({ zh: '设备会话被顶替', en: 'device session taken over' }),
  'security/unit_suspended_attempt': () => ({ zh: '在停用房源办理入住', en: 'check-in attempted in a suspended unit' }),
  'security/attendant_override': (d) => ({ zh: `人工核验放行（${str(d.staffId)}）`, en: `attendant override by ${str(d.staffId)}` }),
  'gateway/started': (d) => ({ zh: `网关启动，版本 ${str(d.version)}`, en: `gateway started, version ${str(d.version)}` }),
  'gateway/outbox_dropped': (d) => ({ zh: `网关丢弃 ${str(d.count)} 条 ${str(d.class)} 事件`, en: `gateway dropped ${str(d.count)} ${str(d.class)} event(s)` }),
  'registration/checkin': (d) => ({ zh: `入住登记 ${guestName(d)}（${guestId(d)}）`, en: `check-in registered: ${guestName(d)} (${guestId(d)})` }),
  'registration/visitor': (d) => ({ zh: `访客登记 ${guestName(d)}（${guestId(d)}）`, en: `visitor registered: ${guestName(d)} (${guestId(d)})` }),
  'registration/checkout': (d) => ({ zh: `退房（${str(d.by)}）`, en: `checked out (by ${str(d.by)})` }),
  'occupancy/entry': (d) => {
    const how = METHODS[str(d.method)] ?? { zh: str(d.method), en: str(d.method) };
    return { zh: `开门（${how.zh}）`, en: `door opened ${how.en}` };
  },
  'occupancy/unit': (d) => ({ zh: `在住 ${str(d.count)} 人`, en: `${str(d.count)} occupant(s)` }),
  'device/online': () => ({ zh: '设备上线', en: 'device online' }),
  'device/offline': (d) => ({ zh: `设备离线（${str(d.reason)}）`, en: `device offline (${str(d.reason)})` }),
  'device/test': () => ({ zh: '设备自检', en: 'device self-test' }),
  'device/battery_low': () => ({ zh: '电量低', en: 'battery low' }),
  'device/fault': (d) => ({ zh: `设备故障：${str(d.what)}`, en: `device fault: ${str(d.what)}` }),
  'device/restored': (d) => ({ zh: `恢复正常：${str(d.what)}`, en: `restored: ${str(d.what)}` }),
  'device/end_of_life': () => ({ zh: '设备寿命到期', en: 'device at end of life' }),
  'device/bad_message': (d) => ({ zh: `错误报文：${str(d.reason)}`, en: `bad message: ${str(d.reason)}` }),
  'audit/code_issued': () => ({ zh: '发放密码', en: 'code issued' }),
  'audit/code_revoked': () => ({ zh: '撤销密码', en: 'code revoked' }),
};

/** One readable line for an event: where it happened, then what. */
export function describeEvent(e: UpstreamEnvelope): Line {
  const where = [e.unit, e.deviceId].filter(Boolean).join(' ');
  const at = where ? `${where}: ` : '';
  const key = `${e.class}/${e.type}`;
  if (e.class === 'reply') {
    const status = str(e.data.status) + (e.data.error ? ` ${str((e.data.error as Data).code)}` : '');
    return { zh: `指令回执 ${e.type}：${status}`, en: `command reply ${e.type}: ${status}` };
  }
  const text = TEXT[key]?.(e.data, e) ?? { zh: key, en: key };
  return { zh: `${at}${text.zh}`, en: `${at}${text.en}` };
}
