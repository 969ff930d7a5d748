// Language of verdicts and explanations (the store keeps both en and zh).
// The rest of the interface is English.

export type Lang = 'en' | 'zh';
const KEY = 'nanscope.lang';
const listeners = new Set<() => void>();

function initial(): Lang {
  try {
    const v = localStorage.getItem(KEY);
    if (v === 'en' || v === 'zh') return v;
  } catch {
    // storage may be unavailable (file://, privacy mode)
  }
  return navigator.language?.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

let lang: Lang = initial();

export function getLang(): Lang {
  return lang;
}

export function setLang(l: Lang): void {
  lang = l;
  try {
    localStorage.setItem(KEY, l);
  } catch {
    // ignore
  }
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
  for (const f of listeners) f();
}

export function onLang(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

/** Pick the current language out of {en, zh} (falls back to whichever exists). */
export function tr(text: unknown): string {
  if (typeof text === 'string') return text;
  if (text && typeof text === 'object') {
    const t = text as Record<string, unknown>;
    const v = t[lang] ?? t.en ?? t.zh;
    if (typeof v === 'string') return v;
  }
  return '';
}
