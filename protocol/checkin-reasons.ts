// The refusal reasons of the check-in decision (CHECKIN.md "The decision"), as data
// (STYLE.md §6): a refusal is an answer, not an exception. The codes are a contract with
// the console, the HTTP API (422 `{reason, message}`) and the upstream
// `security/checkin_refused` event. Keys are in rule order, 1 to 12. Each message tells a
// clerk what happened and what to do next.

export const CHECKIN_REASONS = {
  // Rule 1: the card read
  READ_UNKNOWN: {
    en: 'This card read is not known here. Put the ID card on this desk’s reader again.',
    zh: '找不到这次读卡记录。请把身份证重新放到本前台的读卡器上。',
  },
  READ_STALE: {
    en: 'The card was read too long ago. Put the ID card on the reader again, then repeat the face check.',
    zh: '读卡时间过久，已失效。请重新读取身份证，然后重新进行人脸核验。',
  },
  READ_USED: {
    en: 'This card read has already been used for a check-in. Look at the guest list before trying again; for another guest, read that guest’s own ID card.',
    zh: '这次读卡已用于办理入住。请先查看入住列表，避免重复登记；如为其他客人，请读取其本人的身份证。',
  },
  // Rule 2
  ALREADY_CHECKED_IN: {
    en: 'This guest is already checked in (in this or another unit). Check them out of that stay first; if they lost their code, reissue it instead.',
    zh: '该客人已有未退房的入住记录（本房源或其他房源）。请先为其办理退房；如密码丢失，请改用补发密码。',
  },
  // Rules 3–6: the card
  DOC_UNSUPPORTED: {
    en: 'This type of document (foreign permanent resident card) cannot be checked in here yet. Register the guest by your manual procedure for foreign guests.',
    zh: '暂不支持此类证件（外国人永久居留身份证）。请按外宾人工登记流程办理。',
  },
  ID_INVALID: {
    en: 'The ID number on this card is not valid, so the card may be damaged or forged. Do not check in with this card; ask for another valid ID card.',
    zh: '证件号码无效，证件可能损坏或伪造。请勿用此证件办理入住，请客人出示其他有效身份证件。',
  },
  CARD_INCONSISTENT: {
    en: 'The birth date or gender on this card does not match its ID number, so the card may be forged. Ask for another valid ID card.',
    zh: '证件上的出生日期或性别与证件号码不符，证件可能伪造。请客人出示其他有效身份证件。',
  },
  CARD_EXPIRED: {
    en: 'This ID card has expired. Ask the guest for a valid ID card.',
    zh: '身份证已过有效期。请客人出示有效的身份证件。',
  },
  CARD_NOT_YET_VALID: {
    en: 'This ID card is not valid yet: its start date is after today. Check the dates on the card; if they are right, the gateway clock may be wrong, so call the technician.',
    zh: '身份证尚未生效（起始日期晚于今天）。请核对证件上的日期；如日期无误，可能是系统时间错误，请联系技术人员。',
  },
  // Rule 7: the unit
  UNIT_UNKNOWN: {
    en: 'This unit code is not registered on this gateway. Check the unit code on the door plate and try again.',
    zh: '该房源编号未在本系统登记。请核对门牌二维码上的房源编号后重试。',
  },
  UNIT_UNLICENSED: {
    en: 'This unit has no valid licence (or its licence has ended), so no guest may check in. Choose another unit and tell the manager.',
    zh: '该房源没有有效的经营许可（或许可已到期），不能办理入住。请更换房源并告知负责人。',
  },
  UNIT_SUSPENDED: {
    en: 'This unit is suspended, so no guest may check in and no code can be issued. Choose another unit and tell the manager.',
    zh: '该房源已被暂停使用，不能办理入住或发放密码。请更换房源并告知负责人。',
  },
  // Rule 8: the booking
  BOOKING_UNKNOWN: {
    en: 'This booking is not known here. Check the booking number, or check the guest in without a booking if walk-ins are allowed.',
    zh: '找不到该预订。请核对预订号；如允许散客入住，也可按无预订办理。',
  },
  BOOKING_WRONG_UNIT: {
    en: 'This booking is for another unit. Choose the unit named on the booking.',
    zh: '该预订属于其他房源。请选择预订上的房源。',
  },
  BOOKING_CANCELLED: {
    en: 'This booking has been cancelled. Confirm with the guest and the booking platform before doing anything else.',
    zh: '该预订已取消。请先与客人和预订平台确认。',
  },
  BOOKING_OUTSIDE_WINDOW: {
    en: 'It is too early or too late to check in on this booking: check-in opens a few hours before the booking starts and closes when it ends. Check the booking dates.',
    zh: '当前不在该预订的可入住时间内（预订开始前数小时起可办理，预订结束后不可办理）。请核对预订日期。',
  },
  GUEST_NOT_ON_BOOKING: {
    en: 'This person is not a guest on this booking (or, for a new code, not the guest of this stay). Compare the ID card with the booking; a new guest must first be added by the booking platform.',
    zh: '此人不是该预订的入住人（补发密码时：不是该入住记录的客人）。请核对证件与预订信息；新增入住人须先由预订平台添加。',
  },
  // Rule 9: a walk-in
  WALKIN_DISABLED: {
    en: 'Check-in without a booking is not allowed here. Choose the guest’s booking, or ask them to book through the platform first.',
    zh: '本店不允许无预订入住。请选择客人的预订，或请客人先通过平台预订。',
  },
  CHECKOUT_REQUIRED: {
    en: 'Enter when this walk-in guest will check out. It must be later than now.',
    zh: '请填写该散客的预计退房时间，且必须晚于当前时间。',
  },
  // Rule 10: the face check
  VERIFICATION_MISSING: {
    en: 'No face check for this card read has arrived from this desk. Ask the guest to look at this desk’s camera, then try again.',
    zh: '本前台尚未收到这次读卡的人脸核验结果。请让客人对准本前台的摄像头，然后重试。',
  },
  VERIFICATION_STALE: {
    en: 'The face check was done too long ago. Ask the guest to look at the camera again.',
    zh: '人脸核验时间过久，已失效。请让客人重新对准摄像头核验。',
  },
  LIVENESS_FAILED: {
    en: 'The face check could not confirm a live person (a photo or a screen may have been shown). Ask the guest to remove any mask or sunglasses and look straight at the camera.',
    zh: '人脸核验未通过活体检测（可能使用了照片或屏幕）。请让客人摘下口罩或墨镜，直视摄像头重新核验。',
  },
  FACE_MISMATCH: {
    en: 'The face does not match the ID card photo. Ask the guest to look at the camera again, or check their identity another way.',
    zh: '人脸与身份证照片不符。请让客人重新对准摄像头，或以其他方式核实身份。',
  },
  // Rule 10b: attendant override
  OVERRIDE_DISABLED: {
    en: 'Attendant override is turned off on this gateway. The guest must pass the face check.',
    zh: '本系统未开启人工核验。客人必须通过人脸核验。',
  },
  STAFF_UNKNOWN: {
    en: 'An override must be made by the staff member who is logged in, under their own active account. Log in as yourself and try again.',
    zh: '人工核验必须由当前登录的在职员工本人操作。请用本人账号登录后重试。',
  },
  BADGE_REQUIRED: {
    en: 'An override needs your staff badge swiped at this desk within the last 60 seconds and a written reason of at least 4 characters. Swipe your badge, write the reason, and confirm.',
    zh: '人工核验须在60秒内于本前台刷本人工牌，并填写至少4个字的理由。请刷工牌、填写理由后确认。',
  },
  // Rule 11
  MINOR_NEEDS_GUARDIAN: {
    en: 'This guest is under 18. Contact their guardian, then enter the guardian’s name, phone number and relation to the guest.',
    zh: '客人未满18周岁。请联系其监护人，并填写监护人的姓名、电话及与客人的关系。',
  },
  // Rule 12
  LOCK_FULL: {
    en: 'A lock of this unit has no room for another code (200 live codes per lock). Ask the manager to revoke unused codes, or choose another unit.',
    zh: '该房源的门锁密码已满（每把锁最多200个有效密码）。请联系负责人清理不用的密码，或更换房源。',
  },
} as const satisfies Record<string, { en: string; zh: string }>;

export type CheckinReason = keyof typeof CHECKIN_REASONS;

/** The `message` of a refusal (INTERFACES.md `POST /api/checkins` 422). */
export function checkinReasonMessage(reason: CheckinReason): { zh: string; en: string } {
  return { zh: CHECKIN_REASONS[reason].zh, en: CHECKIN_REASONS[reason].en };
}
