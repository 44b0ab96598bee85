// What a caller types into an identifier field (a unit code, a staff id, an MQTT username)
// is sometimes something else: a guest's name, an ID number, a password in the wrong box.
// Logs and non-registration events repeat such text only when it names something we know,
// or has the shape of the identifier asked for (PROTOCOL.md §0 "Masks").
/** PROTOCOL.md §1: a device id; a base64url secret (mixed case, `_`) is not one. */
const DEVICE_ID = /^[a-z0-9-]{3,64}$/;
/** A unit code as operators write them (`HL-XX-9999`, `U-101`): letters, digits, separators. */
const UNIT_CODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** An ID number, a phone or a card number is no identifier of ours. */
const LONG_DIGITS = /\d{11}/;

const NOT_AN_IDENTIFIER = '[not an identifier]';
const UNKNOWN_IDENTIFIER = '[unknown]';

/** `text` if it names something we know; a placeholder otherwise (staff ids, CHECKIN.md audit). */
export function knownOr(text: string, known: boolean): string {
  return known ? text : UNKNOWN_IDENTIFIER;
}

/**
 * A unit as typed, for `security/checkin_refused`, which names the unit (CHECKIN.md
 * "The decision"): an unknown one is repeated only if it is shaped like a unit code.
 */
export function unitShaped(text: string, known: boolean): string {
  return known || (UNIT_CODE.test(text) && !LONG_DIGITS.test(text)) ? text : NOT_AN_IDENTIFIER;
}

/** A username as a device id if it has that shape, so a failed login can still be traced. */
export function deviceIdShaped(text: string): string {
  return DEVICE_ID.test(text) ? text : NOT_AN_IDENTIFIER;
}
