// A modal's input blocks as form controls, read back as Slack's view.state.values.
"use strict";

(function () {
  const { el, plain, unsupported } = window.BlockKit;
  let serial = 0;

  function list(value) {
    return Array.isArray(value) ? value : [];
  }

  function same(a, b) {
    return Boolean(a && b) && a.value === b.value;
  }

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  // A unix time as the value of <input type="datetime-local"> in the browser's zone.
  function localValue(seconds) {
    const d = new Date(Number(seconds) * 1000);
    if (!seconds || Number.isNaN(d.getTime())) return "";
    const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    return `${date}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  function input(type, id) {
    const node = el("input");
    node.type = type;
    node.id = id;
    return node;
  }

  // Choices (checkboxes or radio buttons) in a fieldset; read gives the chosen option objects.
  function choices(element, id, kind, label) {
    const set = el("fieldset", "choices");
    set.id = id;
    set.append(el("legend", "field-label", label));
    const initial = kind === "radio" ? [element.initial_option] : list(element.initial_options);
    const boxes = list(element.options).map((option, i) => {
      const row = set.appendChild(el("label", "choice"));
      const box = input(kind, `${id}-${i}`);
      box.name = id;
      box.checked = initial.some((o) => same(o, option));
      row.append(box, ` ${plain(option.text)}`);
      return [box, option];
    });
    return [set, () => boxes.filter(([box]) => box.checked).map(([, option]) => option)];
  }

  // Returns [node, read, labelled]: read() gives the element's state value; labelled tells
  // whether the node carries its own label (a fieldset's legend).
  function control(element, id, label) {
    const type = element.type;
    switch (type) {
      case "plain_text_input": {
        const node = element.multiline ? el("textarea") : input("text", id);
        node.id = id;
        if (element.placeholder) node.placeholder = plain(element.placeholder);
        if (element.max_length) node.maxLength = element.max_length;
        node.value = element.initial_value || "";
        return [node, () => ({ type, value: node.value === "" ? null : node.value }), false];
      }
      case "multi_static_select":
      case "checkboxes": {
        const [node, read] = choices(element, id, "checkbox", label);
        return [node, () => ({ type, selected_options: read() }), true];
      }
      case "radio_buttons": {
        const [node, read] = choices(element, id, "radio", label);
        return [node, () => ({ type, selected_option: read()[0] || null }), true];
      }
      case "static_select": {
        const node = el("select");
        node.id = id;
        node.append(el("option", "", plain(element.placeholder) || "Choose"));
        const options = list(element.options);
        options.forEach((option, i) => {
          const item = node.appendChild(el("option", "", plain(option.text)));
          item.value = String(i);
          item.selected = same(element.initial_option, option);
        });
        const read = () => options[Number(node.value)] || null;
        return [node, () => ({ type, selected_option: node.value === "" ? null : read() }), false];
      }
      case "datetimepicker": {
        const node = input("datetime-local", id);
        node.value = localValue(element.initial_date_time);
        const read = () => (node.value ? Math.floor(new Date(node.value).getTime() / 1000) : null);
        return [node, () => ({ type, selected_date_time: read() }), false];
      }
      case "datepicker": {
        const node = input("date", id);
        node.value = element.initial_date || "";
        return [node, () => ({ type, selected_date: node.value || null }), false];
      }
      case "timepicker": {
        const node = input("time", id);
        node.value = element.initial_time || "";
        return [node, () => ({ type, selected_time: node.value || null }), false];
      }
      case "number_input": {
        const node = input("number", id);
        node.value = element.initial_value || "";
        return [node, () => ({ type, value: node.value === "" ? null : node.value }), false];
      }
      default:
        return [unsupported(`${type} input`), null, false];
    }
  }

  // Renders a modal view into `body`; returns {read, showErrors}. A change of a choice whose block
  // has dispatch_action calls ctx.onChoose(blockId, values) when the context gives one.
  function render(view, body, ctx) {
    body.replaceChildren();
    const readers = [];
    const errorSlots = {};
    list(view.blocks).forEach((block, index) => {
      if (!block || block.type !== "input") {
        body.append(window.BlockKit.blocks([block], ctx));
        return;
      }
      const element = block.element || {};
      const id = `field-${++serial}`;
      const label = plain(block.label) + (block.optional ? " (optional)" : "");
      const field = body.appendChild(el("div", "field"));
      field.dataset.blockId = block.block_id || `block-${index}`;
      const [node, read, labelled] = control(element, id, label);
      if (!labelled) {
        const caption = field.appendChild(el("label", "field-label", label));
        caption.htmlFor = id;
      }
      field.append(node);
      if (block.dispatch_action && read && ctx.onChoose) {
        // The view asked to hear of this choice at once (Slack's dispatch_action).
        node.addEventListener("change", () => ctx.onChoose(field.dataset.blockId, form.read()));
      }
      if (block.hint) field.append(el("p", "hint", plain(block.hint)));
      errorSlots[field.dataset.blockId] = field.appendChild(el("p", "field-error"));
      if (read) readers.push([field.dataset.blockId, element.action_id || "", read]);
    });
    const form = {
      read() {
        const values = {};
        readers.forEach(([blockId, actionId, read]) => {
          values[blockId] = { [actionId]: read() };
        });
        return values;
      },
      showErrors(errors) {
        Object.entries(errorSlots).forEach(([blockId, slot]) => {
          slot.textContent = (errors && errors[blockId]) || "";
        });
      },
    };
    return form;
  }

  window.SandboxModal = { render };
})();
