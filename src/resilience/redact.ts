const SECRET_PARAMS =
  /([?&](?:key|api_key|apikey|token|access_token|secret|password|sig|signature)=)[^&#\s]*/gi;
const BEARER = /\b(Bearer|Basic|token)\s+[A-Za-z0-9._~+/=-]{6,}/g;
const USERINFO = /(\w+:\/\/)[^/@\s]+@/g;
const KEY_LIKE = /\b(sk|ghp|gho|github_pat|xox[abp])[-_][A-Za-z0-9_-]{8,}/g;

/** Removes credentials (query keys, bearer tokens, user:pass@, well-known key shapes) from text meant for errors, events and logs. */
export function redact(text: string): string {
  return text
    .replace(SECRET_PARAMS, "$1***")
    .replace(BEARER, "$1 ***")
    .replace(USERINFO, "$1***@")
    .replace(KEY_LIKE, "$1-***");
}
