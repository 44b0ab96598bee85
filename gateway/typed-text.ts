// What a caller types into an identifier field (a unit code, a staff id) is sometimes
// something else: a guest's name, an ID number, a password in the wrong box. Logs and
// non-registration events repeat such text only when it is known, or at least shaped like
// an identifier (PROTOCOL.md §0 "Masks", issue 9).
const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** PROTOCOL.md §1: a device id; a base64url secret (mixed case, `_`) is not one. */
export const DEVICE_ID = /^[a-z0-9-]{3,64}$/;
/** An ID number, a phone or a card number is no identifier of ours. */
const LONG_DIGITS = /\d{11}/;

export const NOT_AN_IDENTIFIER = '[not an identifier]';
export const UNKNOWN_IDENTIFIER = '[unknown]';

/** `text` if it names something we know or looks like an identifier; a placeholder otherwise. */
export function identifierShaped(text: string, known: boolean, shape: RegExp = IDENTIFIER): string {
  return known || (shape.test(text) && !LONG_DIGITS.test(text)) ? text : NOT_AN_IDENTIFIER;
}
