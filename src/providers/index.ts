// The channels Relais sends through (rule N1). Activities build these from configuration;
// workflows never import them.
export * from './types';
export {
  FAILURE_TYPES, ProviderUnavailable, MAX_RECIPIENTS, invalidRequest, notConfigured, refused, rateLimited,
  msFromRetryAfter, msUntilEpochSeconds,
} from './failures';
export {
  createSendGridSender, buildSendGridRequest, mapSendGridError,
  SENDGRID_MAX_RECIPIENTS, SENDGRID_MAX_CATEGORIES, SENDGRID_MAX_CUSTOM_ARGS_BYTES, SENDGRID_MAX_MESSAGE_BYTES,
  type SendGridOptions,
} from './sendgrid';
export { createSmtpSender, classifySmtpError, HEADER_DISPATCH, HEADER_RECIPIENT, type SmtpOptions, type SmtpSender, type SmtpFailureKind } from './smtp';
export { createTwilioSender, mapTwilioError, e164, RelaisTwilioRequestClient, TWILIO_REFUSALS, TWILIO_MAX_BODY, type TwilioOptions } from './twilio';
