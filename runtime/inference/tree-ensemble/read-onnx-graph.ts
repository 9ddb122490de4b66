import type { onnx } from "onnx-proto";

/**
 * Reads the parts of an ONNX model that a tree ensemble needs (its graph's nodes with their attributes, inputs,
 * outputs, initializers) straight from the protobuf wire format, with int64 values as numbers. onnx-proto's
 * decoder makes an object for every int64 of every node, several times slower than ONNX Runtime's own load
 * for a forest: too long a pause of the serving thread at each model load. Throws on a damaged file.
 */
export function readOnnxGraph(bytes: Uint8Array): onnx.IModelProto {
  const model: onnx.IModelProto = {};
  fields(new Wire(bytes), (wire, field) => {
    if (field === 7) model.graph = graph(wire.message());
    else wire.skip();
  });
  return model;
}

function graph(wire: Wire): onnx.IGraphProto {
  const out = { node: [] as onnx.INodeProto[], initializer: [] as onnx.ITensorProto[] };
  const values = { input: [] as onnx.IValueInfoProto[], output: [] as onnx.IValueInfoProto[] };
  fields(wire, (w, field) => {
    if (field === 1) out.node.push(node(w.message()));
    else if (field === 5) out.initializer.push(initializer(w.message()));
    else if (field === 11) values.input.push(valueInfo(w.message()));
    else if (field === 12) values.output.push(valueInfo(w.message()));
    else w.skip();
  });
  return { ...out, ...values };
}

function node(wire: Wire): onnx.INodeProto {
  const out = { input: [] as string[], output: [] as string[], attribute: [] as onnx.IAttributeProto[] };
  const named: { opType?: string; domain?: string } = {};
  fields(wire, (w, field) => {
    if (field === 1) out.input.push(w.text());
    else if (field === 2) out.output.push(w.text());
    else if (field === 4) named.opType = w.text();
    else if (field === 5) out.attribute.push(attribute(w.message()));
    else if (field === 7) named.domain = w.text();
    else w.skip();
  });
  return { ...out, ...named };
}

function attribute(wire: Wire): onnx.IAttributeProto {
  const out: onnx.IAttributeProto & { ints: number[]; floats: number[]; strings: Uint8Array[] } = {
    ints: [],
    floats: [],
    strings: [],
  };
  fields(wire, (w, field, type) => {
    if (field === 1) out.name = w.text();
    else if (field === 2) out.f = w.float();
    else if (field === 3) out.i = w.varint();
    else if (field === 4) out.s = w.bytes();
    else if (field === 7) w.repeated(type, () => out.floats.push(w.float()));
    else if (field === 8) w.repeated(type, () => out.ints.push(w.varint()));
    else if (field === 9) out.strings.push(w.bytes());
    else w.skip();
  });
  return out;
}

function initializer(wire: Wire): onnx.ITensorProto {
  const out: onnx.ITensorProto = {};
  fields(wire, (w, field) => (field === 8 ? (out.name = w.text()) : w.skip()));
  return out;
}

function valueInfo(wire: Wire): onnx.IValueInfoProto {
  const out: onnx.IValueInfoProto = {};
  fields(wire, (w, field) => {
    if (field === 1) out.name = w.text();
    else if (field === 2) out.type = typeProto(w.message());
    else w.skip();
  });
  return out;
}

function typeProto(wire: Wire): onnx.ITypeProto {
  const tensorType: onnx.TypeProto.ITensor = {};
  let isTensor = false;
  fields(wire, (w, field) => {
    if (field !== 1) {
      w.skip();
      return;
    }
    isTensor = true;
    fields(w.message(), (t, inner) => {
      if (inner === 1) tensorType.elemType = t.varint();
      else if (inner === 2) tensorType.shape = { dim: dims(t.message()) };
      else t.skip();
    });
  });
  return isTensor ? { tensorType } : {};
}

function dims(wire: Wire): onnx.TensorShapeProto.IDimension[] {
  const out: onnx.TensorShapeProto.IDimension[] = [];
  fields(wire, (w, field) => {
    if (field !== 1) {
      w.skip();
      return;
    }
    const dim: onnx.TensorShapeProto.IDimension = {};
    fields(w.message(), (d, inner) => {
      if (inner === 1) dim.dimValue = d.varint();
      else if (inner === 2) dim.dimParam = d.text();
      else d.skip();
    });
    out.push(dim);
  });
  return out;
}

/** Calls `read` for each field of the message, which must consume its value (or skip it). */
function fields(wire: Wire, read: (wire: Wire, field: number, type: number) => void): void {
  while (wire.pos < wire.end) {
    const key = wire.varint();
    wire.type = key & 7;
    read(wire, Math.floor(key / 8), wire.type);
  }
  if (wire.pos !== wire.end) throw new Error("a field runs past the end of its message");
}

const decoder = new TextDecoder();

/** A cursor over protobuf's wire format. */
class Wire {
  type = 0;

  /** A nested message's cursor shares its file's view: a model has a message for every node and attribute. */
  constructor(
    private readonly buffer: Uint8Array,
    public pos = 0,
    readonly end = buffer.byteLength,
    private readonly view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength),
  ) {}

  /** A varint as a number: int64 values such as node ids, and negative ones (ten bytes) such as an axis of -1. */
  varint(): number {
    const start = this.pos;
    let value = 0;
    let scale = 1;
    for (let length = 1; length <= 10; length++) {
      if (this.pos >= this.end) throw new Error("a number runs past the end of the file");
      const byte = this.buffer[this.pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return length < 9 ? value : this.wideVarint(start);
      scale *= 128;
    }
    throw new Error("a number longer than ten bytes");
  }

  /** A varint past 2^56, read again exactly as a signed 64-bit integer. */
  private wideVarint(start: number): number {
    let value = 0n;
    for (let at = start, shift = 0n; at < this.pos; at++, shift += 7n)
      value |= BigInt(this.buffer[at]! & 0x7f) << shift;
    return Number(BigInt.asIntN(64, value));
  }

  float(): number {
    if (this.pos + 4 > this.end) throw new Error("a float runs past the end of the file");
    const value = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return value;
  }

  bytes(): Uint8Array {
    const length = this.varint();
    if (this.pos + length > this.end) throw new Error("a field runs past the end of the file");
    const value = this.buffer.subarray(this.pos, this.pos + length);
    this.pos += length;
    return value;
  }

  text(): string {
    return decoder.decode(this.bytes());
  }

  message(): Wire {
    const length = this.varint();
    if (this.pos + length > this.end) throw new Error("a message runs past the end of the file");
    const inner = new Wire(this.buffer, this.pos, this.pos + length, this.view);
    this.pos += length;
    return inner;
  }

  /** A repeated number field, packed (one length-delimited run) or one value per key. */
  repeated(type: number, readOne: () => void): void {
    if (type !== 2) {
      readOne();
      return;
    }
    const run = this.message();
    const after = this.pos;
    this.pos = run.pos;
    while (this.pos < run.end) readOne();
    if (this.pos !== run.end) throw new Error("a packed list runs past its end");
    this.pos = after;
  }

  skip(): void {
    if (this.type === 0) this.varint();
    else if (this.type === 1) this.pos += 8;
    else if (this.type === 2) {
      const length = this.varint();
      this.pos += length;
    } else if (this.type === 5) this.pos += 4;
    else throw new Error(`wire type ${this.type} is not one ONNX uses`);
    if (this.pos > this.end) throw new Error("a field runs past the end of the file");
  }
}
