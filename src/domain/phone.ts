// E.164, the one form Relais takes phone numbers in (+, country code, subscriber number, at most
// 15 digits). This is the shape only, for schemas and workflow validators (no library in workflow
// code); whether a number can exist is libphonenumber-js's answer where a message is sent
// (src/providers/twilio/send.ts).
export const E164_PATTERN = /^\+[1-9]\d{6,14}$/;

/** What a refusal of a phone number says it should look like. */
export const E164_EXAMPLE = 'an E.164 phone number such as +33612345678';
