// Block Kit as the sandbox shows it: every block and element is rendered from what it contains,
// all text goes through textContent (never innerHTML), and whatever this renderer does not know
// is shown as such instead of being left out.
"use strict";

(function () {
  const EMOJI = {
    busts_in_silhouette: "\ud83d\udc65",
    warning: "\u26a0\ufe0f", white_check_mark: "\u2705", rotating_light: "\ud83d\udea8",
    no_entry: "\u26d4", memo: "\ud83d\udcdd", lock: "\ud83d\udd12",
    information_source: "\u2139\ufe0f", heavy_multiplication_x: "\u2716\ufe0f",
    checkered_flag: "\ud83c\udfc1", zzz: "\ud83d\udca4", x: "\u274c",
    hourglass_flowing_sand: "\u23f3", hourglass: "\u231b", heavy_plus_sign: "\u2795",
    grey_question: "\u2754", twisted_rightwards_arrows: "\ud83d\udd00", turtle: "\ud83d\udc22",
    sos: "\ud83c\udd98", raised_hand: "\u270b", no_entry_sign: "\ud83d\udeab", mag: "\ud83d\udd0d",
    large_green_circle: "\ud83d\udfe2", crescent_moon: "\ud83c\udf19", calendar: "\ud83d\udcc6",
    boom: "\ud83d\udca5", arrows_counterclockwise: "\ud83d\udd04", arrow_forward: "\u25b6\ufe0f",
    alarm_clock: "\u23f0", red_circle: "\ud83d\udd34", white_circle: "\u26aa",
    heavy_check_mark: "\u2714\ufe0f", bell: "\ud83d\udd14", wave: "\ud83d\udc4b",
    envelope: "\u2709\ufe0f", envelope_with_arrow: "\ud83d\udce9", pencil2: "\u270f\ufe0f",
    ballot_box_with_check: "\u2611\ufe0f", white_medium_square: "\u25fb\ufe0f",
    construction: "\ud83d\udea7", fast_forward: "\u23e9", question: "\u2753",
    repeat: "\ud83d\udd01", wastebasket: "\ud83d\uddd1\ufe0f",
  };
  const ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">" };
  const INLINE = new RegExp(
    [
      "<([^<>\\n]+)>",
      "`([^`\\n]+)`",
      "(?<![\\w*])\\*(?!\\s)([^*\\n]+?)(?<!\\s)\\*(?![\\w*])",
      "(?<![\\w_])_(?!\\s)([^_\\n]+?)(?<!\\s)_(?![\\w_])",
      "(?<![\\w~])~(?!\\s)([^~\\n]+?)(?<!\\s)~(?![\\w~])",
      ":([a-z0-9_+'-]+):",
    ].join("|"),
    "g",
  );

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function decode(text) {
    return text.replace(/&(amp|lt|gt);/g, (m) => ENTITIES[m]);
  }

  function emoji(text) {
    return text.replace(/:([a-z0-9_+'-]+):/g, (m, name) => EMOJI[name] || m);
  }

  function unsupported(what) {
    return el("span", "bk-unsupported", `[not shown by the sandbox: ${what}]`);
  }

  // <!date^1733443200^{date_short_pretty} {time}|fallback>: the reader's own zone, as Slack does.
  function formatDate(seconds, format, fallback) {
    const when = new Date(Number(seconds) * 1000);
    if (Number.isNaN(when.getTime())) return fallback;
    const day = (opts) => when.toLocaleDateString(undefined, opts);
    const time = (opts) => when.toLocaleTimeString(undefined, opts);
    const tokens = {
      date_num: when.toISOString().slice(0, 10),
      date: day({ year: "numeric", month: "long", day: "numeric" }),
      date_short: day({ year: "numeric", month: "short", day: "numeric" }),
      date_long: day({ weekday: "long", year: "numeric", month: "long", day: "numeric" }),
      time: time({ hour: "2-digit", minute: "2-digit" }),
      time_secs: time({ hour: "2-digit", minute: "2-digit", second: "2-digit" }),
    };
    tokens.date_pretty = tokens.date;
    tokens.date_short_pretty = tokens.date_short;
    tokens.date_long_pretty = tokens.date_long;
    // Without the year when it is this year (lists use it).
    tokens.day_divider_pretty = when.getFullYear() === new Date().getFullYear()
      ? day({ weekday: "long", month: "long", day: "numeric" })
      : tokens.date_long;
    let known = true;
    const text = format.replace(/\{(\w+)\}/g, (m, name) => {
      if (!(name in tokens)) known = false;
      return tokens[name] || m;
    });
    return known ? text : fallback;
  }

  // One Slack control sequence: <@U1>, <#C1|name>, <!here>, <!date^...|...>, <url|label>.
  function control(inner, ctx) {
    const [target, label] = splitOnce(inner, "|");
    if (target.startsWith("@")) {
      const id = target.slice(1);
      return el("span", "bk-mention", `@${(ctx.people && ctx.people[id]) || label || id}`);
    }
    if (target.startsWith("#")) {
      const id = target.slice(1);
      return el("span", "bk-mention", `#${label || (ctx.channels && ctx.channels[id]) || id}`);
    }
    if (target.startsWith("!date^")) {
      const [, seconds, format] = target.split("^");
      const node = el("time", "bk-date", formatDate(seconds, format || "", decode(label || "")));
      node.title = decode(label || "");
      return node;
    }
    if (target.startsWith("!subteam^")) {
      return el("span", "bk-mention", label ? decode(label) : `@${target.slice(9)}`);
    }
    if (target.startsWith("!")) {
      return el("span", "bk-mention", `@${label ? decode(label) : target.slice(1)}`);
    }
    const url = decode(target);
    if (/^(https?:|mailto:)/i.test(url)) {
      const link = el("a", "bk-link", decode(label || url));
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      return link;
    }
    return document.createTextNode(decode(label || target));
  }

  function splitOnce(text, sep) {
    const at = text.indexOf(sep);
    return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
  }

  function inline(text, ctx, into) {
    let last = 0;
    INLINE.lastIndex = 0;
    const matches = [...text.matchAll(INLINE)];
    for (const m of matches) {
      if (m.index > last) into.append(decode(text.slice(last, m.index)));
      if (m[1] !== undefined) into.append(control(m[1], ctx));
      else if (m[2] !== undefined) into.append(el("code", "bk-code", decode(m[2])));
      else if (m[3] !== undefined) inline(m[3], ctx, into.appendChild(el("strong")));
      else if (m[4] !== undefined) inline(m[4], ctx, into.appendChild(el("em")));
      else if (m[5] !== undefined) inline(m[5], ctx, into.appendChild(el("s")));
      else into.append(EMOJI[m[6]] || m[0]);
      last = m.index + m[0].length;
    }
    if (last < text.length) into.append(decode(text.slice(last)));
  }

  function mrkdwn(text, ctx) {
    const out = el("div", "bk-mrkdwn");
    String(text).split("```").forEach((part, i) => {
      if (i % 2 === 1) {
        out.append(el("pre", "bk-pre", decode(part.replace(/^\n/, ""))));
        return;
      }
      part.split("\n").forEach((line, n) => {
        if (n > 0) out.append(el("br"));
        const quote = line.match(/^(&gt;|>) ?(.*)$/);
        if (quote) inline(quote[2], ctx, out.appendChild(el("span", "bk-quote")));
        else inline(line, ctx, out);
      });
    });
    return out;
  }

  function textObject(obj, ctx) {
    if (!obj || typeof obj !== "object") return el("span", "bk-empty", "");
    if (obj.type === "mrkdwn") return mrkdwn(obj.text || "", ctx);
    if (obj.type === "plain_text") {
      const text = String(obj.text || "");
      return el("span", "bk-plain", obj.emoji === false ? text : emoji(text));
    }
    return unsupported(`${obj.type || "untyped"} text object`);
  }

  function plain(obj) {
    return obj && obj.text ? emoji(String(obj.text)) : "";
  }

  function button(element, ctx, blockIndex, elementIndex) {
    const node = el("button", `bk-button ${element.style || ""}`.trim(), plain(element.text));
    node.type = "button";
    node.dataset.actionId = element.action_id || "";
    if (element.url) node.title = element.url;
    node.addEventListener("click", () => {
      if (!element.confirm) return ctx.onPress(blockIndex, elementIndex, node);
      askFirst(element.confirm, ctx).then((yes) => {
        if (yes) ctx.onPress(blockIndex, elementIndex, node);
      });
    });
    if (!ctx.onPress) node.disabled = true;
    return node;
  }

  // A button's confirm object, asked as Slack asks it: a dialog with its title, its text, and
  // its own confirm and deny buttons. Nothing is sent unless the confirm button is pressed.
  function askFirst(confirm, ctx) {
    return new Promise((resolve) => {
      const dialog = el("dialog", "bk-confirm");
      dialog.setAttribute("aria-labelledby", "bk-confirm-title");
      const title = dialog.appendChild(el("h2", "bk-confirm-title", plain(confirm.title)));
      title.id = "bk-confirm-title";
      dialog.appendChild(el("div", "bk-confirm-text")).append(textObject(confirm.text, ctx));
      const row = dialog.appendChild(el("div", "bk-confirm-buttons"));
      const no = row.appendChild(el("button", "bk-button", plain(confirm.deny) || "Cancel"));
      const style = confirm.style === "danger" ? "danger" : "primary";
      const yes = row.appendChild(el("button", `bk-button ${style}`, plain(confirm.confirm) || "Yes"));
      no.type = yes.type = "button";
      let answer = false;
      no.addEventListener("click", () => dialog.close());
      yes.addEventListener("click", () => {
        answer = true;
        dialog.close();
      });
      dialog.addEventListener("close", () => {
        dialog.remove();
        resolve(answer);
      });
      document.body.append(dialog);
      dialog.showModal();
      no.focus();
    });
  }

  function element(item, ctx, blockIndex, elementIndex) {
    if (!item || typeof item !== "object") return unsupported("malformed element");
    if (item.type === "button") return button(item, ctx, blockIndex, elementIndex);
    if (item.type === "mrkdwn" || item.type === "plain_text") return textObject(item, ctx);
    if (item.type === "image") return el("span", "bk-image", `[image: ${item.alt_text || ""}]`);
    return unsupported(`${item.type} element`);
  }

  function block(item, ctx, index) {
    const type = item && item.type;
    if (type === "header") return el("h3", "bk-header", plain(item.text));
    if (type === "divider") return el("hr", "bk-divider");
    if (type === "section") {
      const node = el("div", "bk-section");
      const body = node.appendChild(el("div", "bk-section-body"));
      if (item.text) body.append(textObject(item.text, ctx));
      if (Array.isArray(item.fields)) {
        const fields = body.appendChild(el("div", "bk-fields"));
        item.fields.forEach((f) => fields.appendChild(el("div", "bk-field")).append(textObject(f, ctx)));
      }
      if (item.accessory) {
        node.appendChild(el("div", "bk-accessory")).append(element(item.accessory, ctx, index, null));
      }
      return node;
    }
    if (type === "context") {
      const node = el("div", "bk-context");
      (item.elements || []).forEach((e, i) => node.append(element(e, ctx, index, i)));
      return node;
    }
    if (type === "actions") {
      const node = el("div", "bk-actions");
      (item.elements || []).forEach((e, i) => node.append(element(e, ctx, index, i)));
      return node;
    }
    if (type === "image") return el("div", "bk-image", `[image: ${item.alt_text || ""}]`);
    return unsupported(`${type || "untyped"} block`);
  }

  function blocks(list, ctx) {
    const out = el("div", "bk-blocks");
    (Array.isArray(list) ? list : []).forEach((item, i) => {
      const node = block(item, ctx, i);
      node.dataset.blockIndex = String(i);
      out.append(node);
    });
    return out;
  }

  window.BlockKit = { blocks, mrkdwn, textObject, plain, el, unsupported };
})();
