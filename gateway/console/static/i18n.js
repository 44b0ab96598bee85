// zh/en for the console. The clerk's choice is kept in localStorage; the decision and
// the alarm screen always show both languages (the issue: everything labelled in both
// or switchable), so a refusal reads the same to the clerk and to the guest.
const DICT = {
  'app.desk': ['前台', 'Desk'],
  'app.logout': ['退出', 'Log out'],
  'app.lang': ['English', '中文'],
  'login.title': ['员工登录', 'Staff login'],
  'login.staffId': ['工号', 'Staff ID'],
  'login.password': ['密码', 'Password'],
  'login.submit': ['登录', 'Log in'],
  'login.badge': ['已刷工牌？点此登录', 'Swiped your badge? Log in'],
  'tab.checkin': ['入住', 'Check-in'],
  'tab.rooms': ['房间', 'Rooms'],
  'tab.devices': ['设备', 'Devices'],
  'tab.uplink': ['上传', 'Uplink'],
  'uplink.label': ['上传', 'Uplink'],
  'uplink.connected': ['已连接', 'connected'],
  'uplink.down': ['已断开', 'down'],
  'uplink.stalled': ['停滞', 'stalled'],
  'uplink.none': ['未配置', 'not configured'],
  'uplink.events': ['事件流', 'Live feed'],
  'uplink.eventsDown': ['实时更新已断开，正在重连', 'Live updates lost, reconnecting'],
  'uplink.class': ['类别', 'Class'],
  'uplink.pending': ['待上传', 'Pending'],
  'uplink.oldest': ['最久等待', 'Oldest pending'],
  'uplink.total': ['合计', 'Total'],
  'uplink.delivered': ['已送达', 'Delivered'],
  'uplink.dropped': ['丢弃', 'Dropped'],
  'reads.title': ['本前台读卡', 'Card reads at this desk'],
  'reads.empty': ['请客人把身份证放到读卡器上', 'Ask the guest to put the ID card on the reader'],
  'read.waiting': ['等待人脸核验', 'Waiting for face check'],
  'read.used': ['已登记', 'Registered'],
  'read.stale': ['读卡已过时，请重新读卡', 'Read too old: read the card again'],
  'card.valid': ['证件有效', 'Card valid'],
  'card.expired': ['证件已过期', 'Card expired'],
  'card.notYet': ['证件未生效', 'Card not yet valid'],
  'card.noEnd': ['长期', 'no end'],
  'card.unsupported': ['不支持的证件', 'Unsupported document'],
  'card.age': ['岁', 'years'],
  'face.label': ['人脸比对', 'Face score'],
  'face.threshold': ['阈值', 'threshold'],
  'face.pass': ['通过', 'pass'],
  'face.fail': ['不通过', 'fail'],
  'face.liveness': ['活体检测未通过', 'liveness failed'],
  'booking.label': ['预订', 'Booking'],
  'booking.none': ['无预订（散客）', 'No booking (walk-in)'],
  'booking.found': ['找到预订', 'Booking found'],
  'booking.notFound': ['无匹配预订', 'No matching booking'],
  'booking.other': ['其他预订号', 'Other booking ID'],
  'form.unit': ['房间', 'Unit'],
  'form.checkout': ['预计退房', 'Expected check-out'],
  'form.bookingId': ['预订号', 'Booking ID'],
  'form.minor': ['未成年人：须填写监护人信息', 'Minor: the guardian must be entered'],
  'guardian.name': ['监护人姓名', 'Guardian name'],
  'guardian.phone': ['监护人电话', 'Guardian phone'],
  'guardian.relation': ['与客人关系', 'Relation'],
  'override.toggle': ['人工核验（代替人脸核验）', 'Attendant override (instead of the face check)'],
  'override.reason': ['理由（至少4个字）', 'Reason (at least 4 characters)'],
  'override.hint': ['请先在本前台刷本人工牌（60秒内有效）', 'Swipe your own badge at this desk first (valid 60 s)'],
  'action.checkin': ['办理入住', 'Check in'],
  'action.visitor': ['访客登记', 'Visitor check-in'],
  'action.done': ['完成，清除屏幕', 'Done, clear the screen'],
  'visitor.host': ['访问的住客', 'Visiting stay'],
  'visitor.none': ['暂无在住客人', 'No open stay'],
  'decision.ok': ['入住成功', 'Checked in'],
  'decision.visitor': ['访客登记成功', 'Visitor registered'],
  'decision.refused': ['拒绝', 'Refused'],
  'code.lock': ['门锁', 'Lock'],
  'code.once': ['密码只显示这一次，请告知客人', 'The code is shown only this once: tell the guest now'],
  'code.valid': ['有效期', 'Valid'],
  'code.uses': ['可用次数', 'Uses'],
  'code.none': ['该房间没有登记门锁，未发放密码', 'This unit has no registered lock, so no code was issued'],
  'code.unlimited': ['不限', 'unlimited'],
  'select.read': ['请在左侧选择一次读卡', 'Select a card read on the left'],
  'rooms.title': ['房间', 'Rooms'],
  'rooms.occupants': ['住客', 'Occupants'],
  'rooms.codes': ['有效密码', 'Live codes'],
  'rooms.none': ['无', 'none'],
  'unit.free': ['空闲', 'free'],
  'unit.occupied': ['有住客', 'occupied'],
  'unit.suspended': ['已暂停', 'suspended'],
  'unit.unsafe': ['不安全', 'unsafe'],
  'unit.unlicensed': ['无许可', 'unlicensed'],
  'action.checkout': ['退房', 'Check out'],
  'action.confirmCheckout': ['确认退房？', 'Confirm check-out?'],
  'action.checkoutUnit': ['整间退房', 'Check out the unit'],
  'devices.id': ['编号', 'ID'],
  'devices.kind': ['类型', 'Kind'],
  'devices.unit': ['房间', 'Unit'],
  'devices.online': ['状态', 'State'],
  'devices.battery': ['电量', 'Battery'],
  'devices.lastSeen': ['最后在线', 'Last seen'],
  'devices.health': ['状况', 'Health'],
  'device.online': ['在线', 'online'],
  'device.offline': ['离线', 'offline'],
  'device.unknown': ['未见', 'not seen'],
  'kind.lock': ['门锁', 'lock'],
  'kind.smoke': ['烟感', 'smoke detector'],
  'kind.desk': ['人证终端', 'face terminal'],
  'kind.reader': ['读卡器', 'card reader'],
  'health.fault': ['故障', 'fault'],
  'health.tamper': ['被拆', 'tamper'],
  'health.batteryLow': ['电量低', 'battery low'],
  'health.endOfLife': ['寿命到期', 'end of life'],
  'alarm.banner': ['火警未消除', 'Alarm still active'],
};

const STORAGE_KEY = 'menwei.lang';
let lang = localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh';
const listeners = [];

export function currentLang() {
  return lang;
}

/** Only when the clerk has not chosen before: the gateway's default. */
export function defaultLang(value) {
  if (localStorage.getItem(STORAGE_KEY) === null && (value === 'en' || value === 'zh')) setLang(value);
}

export function setLang(value) {
  lang = value;
  localStorage.setItem(STORAGE_KEY, value);
  document.documentElement.lang = value === 'zh' ? 'zh-CN' : 'en';
  applyStatic();
  for (const fn of listeners) fn();
}

export function onLangChange(fn) {
  listeners.push(fn);
}

export function t(key) {
  const entry = DICT[key];
  if (!entry) return key;
  return lang === 'zh' ? entry[0] : entry[1];
}

export function zh(key) {
  return DICT[key]?.[0] ?? key;
}

export function en(key) {
  return DICT[key]?.[1] ?? key;
}

/** Fills every [data-i18n] element of the static page. */
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
}

/** A time in the building's zone, in the clerk's language. */
export function formatTime(iso, timeZone, withDate = true) {
  if (!iso) return '—';
  const opts = { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23', ...(withDate ? { year: 'numeric', month: '2-digit', day: '2-digit' } : { second: '2-digit' }) };
  return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', opts).format(new Date(iso));
}

export function formatAge(seconds) {
  if (seconds < 60) return lang === 'zh' ? `${Math.round(seconds)} 秒` : `${Math.round(seconds)} s`;
  if (seconds < 3600) return lang === 'zh' ? `${Math.round(seconds / 60)} 分钟` : `${Math.round(seconds / 60)} min`;
  return lang === 'zh' ? `${(seconds / 3600).toFixed(1)} 小时` : `${(seconds / 3600).toFixed(1)} h`;
}
