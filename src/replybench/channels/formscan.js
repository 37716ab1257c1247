// One round trip that describes a page for the web-form channel (replybench.channels.formfill.scan_page).
//
// Lists every form control with what a person would read next to it (label, placeholder, aria hints),
// whether it can be seen, and the signals of a bot trap; every button; every CAPTCHA widget; and, when
// asked, the visible text and error messages of the page. Controls, buttons, labels and forms are tagged
// with data-replybench-* attributes so that Python can address them with stable selectors afterwards.
(opts) => {
  const FIELD = 'data-replybench-field';
  const BUTTON = 'data-replybench-button';
  const LABEL = 'data-replybench-label';
  const FORM = 'data-replybench-form';
  const state = (window.__replybench_scan = window.__replybench_scan || { field: 0, button: 0, label: 0, form: 0 });
  const squash = (s) => (s || '').replace(/\s+/g, ' ').trim();
  const textOf = (el) => (el ? squash(el.innerText !== undefined ? el.innerText : el.textContent) : '');
  const root = document.documentElement;
  const docW = Math.max(root.scrollWidth, window.innerWidth);
  const docH = Math.max(root.scrollHeight, window.innerHeight);

  const rendered = (el) =>
    el.checkVisibility
      ? el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })
      : el.getClientRects().length > 0;
  const geometry = (el) => {
    const r = el.getBoundingClientRect();
    const left = r.left + window.scrollX;
    const top = r.top + window.scrollY;
    return {
      tiny: r.width < 2 || r.height < 2 || r.width * r.height <= 4,
      off: left + r.width <= 0 || top + r.height <= 0 || left >= docW || top >= docH,
    };
  };
  const seen = (el) => {
    if (!rendered(el)) return false;
    const g = geometry(el);
    return !g.tiny && !g.off && !el.closest('[aria-hidden="true"], [inert]');
  };
  const unique = (selector) => {
    try {
      return document.querySelectorAll(selector).length === 1;
    } catch (e) {
      return false;
    }
  };
  const readable = (el, fallback) => {
    const tag = el.tagName.toLowerCase();
    if (el.id && unique('#' + CSS.escape(el.id))) return '#' + CSS.escape(el.id);
    const name = el.getAttribute('name');
    if (name) {
      const s = `${tag}[name="${CSS.escape(name)}"]`;
      if (unique(s)) return s;
    }
    return fallback;
  };
  const formId = (form) => {
    if (!form) return -1;
    let id = form.getAttribute(FORM);
    if (id === null) {
      id = String(state.form++);
      form.setAttribute(FORM, id);
    }
    return Number(id);
  };
  const tagged = (el, attr, counter) => {
    let id = el.getAttribute(attr);
    if (id === null) {
      id = String(state[counter]++);
      el.setAttribute(attr, id);
    }
    return Number(id);
  };
  const ownText = (el) =>
    squash(
      Array.from(el.childNodes)
        .filter((n) => n.nodeType === Node.TEXT_NODE)
        .map((n) => n.textContent)
        .join(' '),
    );

  const TRAP =
    /honey|hpot|(^|[^a-z])hp([^a-z]|$)|(^|[^a-z])bot([^a-z]|$)|trap|website|homepage|(^|[^a-z])url([^a-z]|$)|(^|[^a-z])fax([^a-z]|$)|leave (this )?(field )?(blank|empty)|do not fill|don.t fill|nicht ausf|leer lassen|ne pas remplir|laisser vide|no rellen|dejar en blanco|lasciare vuoto|non compilare|niet invullen|leeg laten/i;

  const controls = [];
  for (const el of document.querySelectorAll('input, textarea, select')) {
    const tag = el.tagName.toLowerCase();
    const type = tag === 'input' ? (el.getAttribute('type') || 'text').toLowerCase() : tag;
    if (['submit', 'button', 'reset', 'image'].includes(type)) continue;
    const index = tagged(el, FIELD, 'field');
    const labels = Array.from(el.labels || []);
    const label = squash(
      labels
        .map((l) => {
          const copy = l.cloneNode(true);
          copy.querySelectorAll('input, select, textarea, button, option').forEach((n) => n.remove());
          return copy.textContent;
        })
        .join(' '),
    );
    const labelledBy = squash(
      (el.getAttribute('aria-labelledby') || '')
        .split(/\s+/)
        .filter(Boolean)
        .map((id) => textOf(document.getElementById(id)))
        .join(' '),
    );
    const ariaLabel = squash([el.getAttribute('aria-label') || '', labelledBy].join(' '));
    const placeholder = squash(el.getAttribute('placeholder') || '');
    let context = '';
    if (!label && !ariaLabel && !placeholder) {
      let prev = el.previousElementSibling;
      while (prev && prev.tagName === 'BR') prev = prev.previousElementSibling;
      if (prev && !prev.matches('input, select, textarea, button')) {
        const t = textOf(prev);
        if (t.length <= 80) context = t;
      }
      if (!context && el.parentElement) context = ownText(el.parentElement).slice(0, 80);
    }
    const isRendered = type !== 'hidden' && rendered(el);
    const g = isRendered ? geometry(el) : { tiny: false, off: false };
    const ariaHidden = !!el.closest('[aria-hidden="true"], [inert]');
    const hidden = [];
    if (type === 'hidden') hidden.push('type=hidden');
    else if (!isRendered) hidden.push('not rendered');
    else {
      if (g.tiny) hidden.push('zero size');
      if (g.off) hidden.push('off-screen');
    }
    if (ariaHidden) hidden.push('aria-hidden');
    const visible = hidden.length === 0;
    const tabOut = el.hasAttribute('tabindex') && el.tabIndex < 0;
    const trapWords = [
      el.getAttribute('name'),
      el.id,
      el.className,
      label,
      placeholder,
      ariaLabel,
      el.closest('[class*="honey" i], [id*="honey" i], [class*="hpot" i]') ? 'honeypot' : '',
    ].join(' ');
    const trapText = TRAP.test(trapWords);
    let viaLabel = null;
    if (!visible && (type === 'checkbox' || type === 'radio') && !ariaHidden && !tabOut && !trapText) {
      const shown = labels.find((l) => seen(l));
      if (shown) viaLabel = `[${LABEL}="${tagged(shown, LABEL, 'label')}"]`;
    }
    const signals = [];
    if (type !== 'hidden' && !visible && viaLabel === null) {
      if (isRendered && g.off) signals.push('off-screen');
      if (isRendered && g.tiny) signals.push('zero size');
      if (ariaHidden) signals.push('aria-hidden');
      if (tabOut) signals.push('tabindex=-1');
      if (trapText) signals.push('bot-trap name');
    }
    const selector = `[${FIELD}="${index}"]`;
    const options =
      tag === 'select'
        ? Array.from(el.options)
            .slice(0, 200)
            .map((o) => ({ value: o.value, text: squash(o.text), disabled: o.disabled }))
        : [];
    controls.push({
      index,
      selector,
      css: readable(el, selector),
      tag,
      type,
      name: el.getAttribute('name') || '',
      id: el.id || '',
      label,
      aria_label: ariaLabel,
      placeholder,
      autocomplete: (el.getAttribute('autocomplete') || '').toLowerCase(),
      title: squash(el.getAttribute('title') || ''),
      context,
      options,
      form: formId(el.form || el.closest('form')),
      visible,
      via_label: viaLabel,
      hidden,
      honeypot: signals,
      required: el.required || el.getAttribute('aria-required') === 'true',
      pattern: el.getAttribute('pattern') || '',
      checked: !!el.checked,
      has_value:
        tag === 'select' ? el.value !== '' : type === 'checkbox' || type === 'radio' ? !!el.checked : el.value !== '',
      disabled: !!el.disabled || el.readOnly === true,
    });
  }

  const buttons = [];
  for (const el of document.querySelectorAll(
    'button, input[type="submit" i], input[type="button" i], input[type="image" i], [role="button"]',
  )) {
    const tag = el.tagName.toLowerCase();
    const index = tagged(el, BUTTON, 'button');
    const selector = `[${BUTTON}="${index}"]`;
    const text =
      tag === 'input'
        ? squash(el.value || el.getAttribute('alt') || el.getAttribute('aria-label') || '')
        : squash(textOf(el) || el.getAttribute('aria-label') || el.getAttribute('title') || '');
    const type =
      tag === 'button' ? (el.getAttribute('type') || 'submit').toLowerCase()
      : tag === 'input' ? (el.getAttribute('type') || '').toLowerCase()
      : 'role';
    buttons.push({
      index,
      selector,
      css: readable(el, selector),
      tag,
      type,
      text: text.slice(0, 120),
      form: formId(el.form || el.closest('form')),
      visible: seen(el),
      disabled: !!el.disabled || el.getAttribute('aria-disabled') === 'true',
    });
  }

  const captchas = [];
  for (const f of document.querySelectorAll('iframe')) {
    const src = f.getAttribute('src') || '';
    const title = f.getAttribute('title') || '';
    const both = `${src} ${title}`;
    let kind = null;
    if (/recaptcha/i.test(both)) kind = 'recaptcha';
    else if (/hcaptcha/i.test(both)) kind = 'hcaptcha';
    else if (/challenges\.cloudflare\.com|turnstile|cloudflare security challenge/i.test(both)) kind = 'turnstile';
    else if (/captcha/i.test(both)) kind = 'captcha';
    if (kind) captchas.push({ kind, how: `iframe[title="${title}"]`, src: src.slice(0, 200), visible: seen(f) });
  }
  const WIDGETS = [
    ['.g-recaptcha', 'recaptcha'],
    ['.h-captcha', 'hcaptcha'],
    ['.cf-turnstile', 'turnstile'],
    ['.frc-captcha', 'captcha'],
    ['[data-sitekey]', 'captcha'],
    ['.grecaptcha-badge', 'recaptcha-score'],
  ];
  const counted = new Set();
  for (const [selector, kind] of WIDGETS) {
    for (const el of document.querySelectorAll(selector)) {
      if (counted.has(el)) continue;
      counted.add(el);
      // An invisible reCAPTCHA or a score badge challenges nobody up front; a widget is a barrier.
      const silent = kind === 'recaptcha-score' || (el.getAttribute('data-size') || '') === 'invisible';
      captchas.push({ kind, how: selector, src: '', visible: !silent && rendered(el) });
    }
  }

  const explicit = {};
  for (const [key, sel] of Object.entries(opts.explicit || {})) {
    let found = null;
    try {
      let el = document.querySelector(sel);
      if (el && !el.matches('input, select, textarea')) el = el.querySelector('input, select, textarea');
      if (el && el.hasAttribute(FIELD)) found = Number(el.getAttribute(FIELD));
    } catch (e) {
      found = 'invalid';
    }
    explicit[key] = found;
  }

  const result = { url: location.href, controls, buttons, captchas, explicit };
  if (opts.observe) {
    result.title = document.title;
    result.text = document.body ? document.body.innerText.slice(0, 60000) : '';
    const ERRORS =
      '[role="alert"], [aria-live="assertive"], .error, .errors, .alert-danger, .alert-error, .invalid-feedback, ' +
      '.form-error, .field-error, .error-message, .fehler, .erreur, .wpcf7-not-valid-tip';
    const alerts = [];
    for (const el of document.querySelectorAll(ERRORS)) {
      if (!seen(el)) continue;
      const t = textOf(el).slice(0, 500);
      if (t && !alerts.includes(t)) alerts.push(t);
    }
    result.alerts = alerts;
  }
  return result;
};
