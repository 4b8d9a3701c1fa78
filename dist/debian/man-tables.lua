-- pandoc filter for the man pages: a wide reference table becomes a definition list (first cell = term,
-- the other cells as "Header: text" lines), which a terminal shows without overfull lines.
local function cell_inlines(cell)
  local out = pandoc.List()
  for _, b in ipairs(cell.contents) do
    if b.content then out:extend(b.content) end
  end
  return out
end

function Table(tbl)
  local heads = {}
  if tbl.head and tbl.head.rows[1] then
    for i, c in ipairs(tbl.head.rows[1].cells) do heads[i] = pandoc.utils.stringify(c.contents) end
  end
  local items = pandoc.List()
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do
      local term = cell_inlines(row.cells[1])
      local defs = pandoc.List()
      for i = 2, #row.cells do
        local text = cell_inlines(row.cells[i])
        if #text > 0 and pandoc.utils.stringify(text) ~= "—" then
          local line = pandoc.List()
          if heads[i] and heads[i] ~= "" then line:insert(pandoc.Strong(heads[i] .. ":")); line:insert(pandoc.Space()) end
          line:extend(text)
          defs:insert(pandoc.Para(line))
        end
      end
      items:insert({ term, { defs } })
    end
  end
  return pandoc.DefinitionList(items)
end
