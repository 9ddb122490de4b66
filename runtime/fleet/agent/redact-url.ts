/** A broker or hub URL as logged: credentials written into it (`mqtt://user:secret@host`) stay out of the log. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//<credentials>@");
}
